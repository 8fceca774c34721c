import { expect } from "expect";
import { assertCode } from "@fastchat/testing/assert_code";
import { formatHostPort, parseHostPort } from "./host_port.ts";

Deno.test("parseHostPort: IPv4, names and bracketed IPv6; formatHostPort inverts it", () => {
  for (const s of ["10.0.0.7:7701", "chat.example.org:443", "[::1]:1", "[fe80::1]:65535"]) {
    expect(formatHostPort(parseHostPort(s))).toBe(s);
  }
  expect(parseHostPort("[::1]:7701")).toEqual({ host: "::1", port: 7701 });
});

Deno.test("parseHostPort: a missing or out-of-range port and bare IPv6 are INVALID_CONFIG", () => {
  for (const s of ["10.0.0.7", "10.0.0.7:", ":7701", "10.0.0.7:0", "h:65536", "::1:7701", "h:7x"]) {
    const e = assertCode(() => parseHostPort(s, "--advertise"), "INVALID_CONFIG");
    expect(e.message).toContain("--advertise");
  }
});
