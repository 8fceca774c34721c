import { expect } from "expect";
import { assertCode } from "@fastchat/testing/assert_code";
import {
  invalidFlag,
  MAX_PAYLOAD_BYTES,
  parseDelay,
  parseDuration,
  parseHostPort,
  parseInteger,
  parseRate,
  parseSize,
} from "./flag_values.ts";

/** Expects `fn` to throw INVALID_CONFIG with a message matching `re`. */
const rejects = (fn: () => unknown, re: RegExp) =>
  expect(assertCode(fn, "INVALID_CONFIG").message).toMatch(re);

Deno.test("invalidFlag and parseInteger: the flag, its bound and --help", () => {
  expect(invalidFlag("bad").message).toBe("bad; see --help");
  expect(parseInteger("clients", "10", 2)).toBe(10);
  rejects(
    () => parseInteger("clients", "1", 2),
    /^--clients must be an integer >= 2, not "1"; see --help$/,
  );
  rejects(() => parseInteger("clients", " ", 2), /--clients must be an integer/);
  rejects(() => parseInteger("clients", "2.5", 2), /--clients must be an integer/);
});

Deno.test("parseSize: units and limits", () => {
  expect(parseSize("100B")).toBe(100);
  expect(parseSize("100")).toBe(100);
  expect(parseSize("1KiB")).toBe(1024);
  expect(parseSize("1kib")).toBe(1024);
  expect(parseSize("64KiB")).toBe(65536);
  expect(parseSize("2KB")).toBe(2000);
  expect(parseSize("1.5KiB")).toBe(1536);
  expect(parseSize("900KiB")).toBe(MAX_PAYLOAD_BYTES);
  rejects(() => parseSize("901KiB"), /at most/);
  rejects(() => parseSize("1MiB"), /at most/);
  rejects(() => parseSize("0B"), />= 1/);
  rejects(() => parseSize("1.3B"), /whole number/);
  rejects(() => parseSize("lots"), /a size like/);
});

Deno.test("parseDuration, parseDelay, parseRate, parseHostPort", () => {
  expect(parseDuration("10ms", "--x")).toBe(10);
  expect(parseDuration("1.5s", "--x")).toBe(1500);
  expect(parseDuration("2m", "--x")).toBe(120_000);
  expect(parseDuration("500us", "--x")).toBe(0.5);
  rejects(() => parseDuration("10", "--x"), /--x needs a number with a unit/);
  expect(parseDelay("const:10ms")).toEqual({ dist: "const", ms: 10 });
  expect(parseDelay("exp:12ms")).toEqual({ dist: "exp", meanMs: 12 });
  expect(parseDelay("normal:10ms,5ms")).toEqual({ dist: "normal", meanMs: 10, sdMs: 5 });
  rejects(() => parseDelay("uniform:10ms"), /--delay must be/);
  rejects(() => parseDelay("normal:10ms"), /--delay must be/);
  rejects(() => parseDelay("const:10ms,2ms"), /--delay must be/);
  rejects(() => parseDelay("exp:0ms"), /mean must be > 0/);
  rejects(() => parseDelay("const:10"), /unit/);
  expect(parseRate("500/s")).toBe(500);
  expect(parseRate("12.5")).toBe(12.5);
  rejects(() => parseRate("0/s"), /positive rate/);
  rejects(() => parseRate("5/m"), /positive rate/);
  expect(parseHostPort("[::1]:7700")).toEqual({ host: "::1", port: 7700 });
  rejects(() => parseHostPort("localhost"), /host:port/);
  rejects(() => parseHostPort("h:70000"), /host:port/);
});
