import { expect } from "expect";
import {
  DB_READY,
  dbReadyLine,
  LB_READY,
  lbReadyLine,
  parseListening,
  SERVER_READY,
  serverReadyLine,
} from "./ready_lines.ts";

Deno.test("ready lines: each printer's line is recognised by its own pattern only", () => {
  const server = serverReadyLine("srv-1", "127.0.0.2:7701");
  const lb = lbReadyLine("lb-9", "0.0.0.0:7700");
  const db = dbReadyLine("postgres://postgres@127.0.0.1:7432/postgres");
  expect(parseListening(server.match(SERVER_READY)!)).toEqual({
    id: "srv-1",
    host: "127.0.0.2",
    port: 7701,
    address: "127.0.0.2:7701",
  });
  expect(parseListening(lb.match(LB_READY)!)).toEqual({
    id: "lb-9",
    host: "0.0.0.0",
    port: 7700,
    address: "0.0.0.0:7700",
  });
  expect(db.match(DB_READY)![1]).toBe("postgres://postgres@127.0.0.1:7432/postgres");
  for (const [line, own] of [[server, SERVER_READY], [lb, LB_READY], [db, DB_READY]] as const) {
    for (const re of [SERVER_READY, LB_READY, DB_READY]) {
      expect({ line, re: String(re), matches: re.test(line) })
        .toEqual({ line, re: String(re), matches: re === own });
    }
  }
});

Deno.test("ready lines: a metrics line or a prefixed echo is not a ready line", () => {
  const metrics = "FastChat server srv-1 metrics on http://127.0.0.1:9100/metrics";
  expect(SERVER_READY.test(metrics)).toBe(false);
  expect(SERVER_READY.test(`srv-1 | ${serverReadyLine("srv-1", "127.0.0.1:1")}`)).toBe(false);
  expect(LB_READY.test("FastChat load balancer lb-1 metrics on http://127.0.0.1:9/metrics"))
    .toBe(false);
  // An IPv6 host keeps its colons; the port is the last group of digits.
  expect(parseListening(serverReadyLine("s", "::1:7701").match(SERVER_READY)!))
    .toMatchObject({ host: "::1", port: 7701 });
});
