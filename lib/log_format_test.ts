import { expect } from "expect";
import { assertCode } from "@fastchat/testing/assert_code";
import { formatLogLine, logFormatFromEnv, parseLogLine } from "./log_format.ts";

const RECORD = {
  ts: "2026-12-07T13:17:09.098Z",
  level: "info",
  component: "server",
  event: "resync",
  reason: "link to fc-1 up",
  peer: "fc-45861",
  count: 3,
  ok: true,
  none: null,
  detail: { a: 1, b: "x y" },
  list: [1, 2],
  quote: 'say "hi"',
  eq: "a=b",
  gone: undefined,
};

Deno.test("text form: time of day, level, component, event, then key=value", () => {
  const line = formatLogLine("text", RECORD);
  expect(line).toMatch(
    /^\d\d:\d\d:\d\d\.098 INFO {2}server resync reason="link to fc-1 up" peer=fc-45861 /,
  );
  expect(line).toContain(" count=3 ok=true none=null ");
  expect(line).toContain(` detail="{\\"a\\":1,\\"b\\":\\"x y\\"}" list=[1,2] `);
  expect(line).toContain(' quote="say \\"hi\\"" eq="a=b"');
  expect(line).not.toContain("\n");
  expect(line).not.toContain("gone");
});

Deno.test("text form reads back: strings as written, JSON tokens parsed", () => {
  const r = parseLogLine(formatLogLine("text", RECORD))!;
  expect(r).toMatchObject({
    level: "info",
    component: "server",
    event: "resync",
    reason: "link to fc-1 up",
    peer: "fc-45861",
    count: "3",
    ok: "true",
    detail: JSON.stringify(RECORD.detail),
    list: [1, 2],
    quote: 'say "hi"',
    eq: "a=b",
  });
  expect(r.ts).toMatch(/^\d\d:\d\d:\d\d\.098$/);
});

Deno.test("json form is the record, and reads back whole", () => {
  const line = formatLogLine("json", RECORD);
  const { gone: _, ...defined } = RECORD;
  expect(JSON.parse(line)).toStrictEqual(defined);
  expect(parseLogLine(line)).toStrictEqual(defined);
});

Deno.test("other lines are no log records", () => {
  for (
    const line of [
      "FastChat server fc-1 listening on 127.0.0.1:1",
      "{not json",
      "[1,2]",
      "null",
      "12:00:00.000 NOTICE server x",
      "",
    ]
  ) expect(parseLogLine(line)).toBeNull();
});

Deno.test("format from the environment: named, else text on a terminal, JSON otherwise", () => {
  expect(logFormatFromEnv("json", true)).toBe("json");
  expect(logFormatFromEnv("text", false)).toBe("text");
  expect(logFormatFromEnv(undefined, true)).toBe("text");
  expect(logFormatFromEnv(undefined, false)).toBe("json");
  expect(logFormatFromEnv("", false)).toBe("json");
  assertCode(() => logFormatFromEnv("pretty", false), "INVALID_CONFIG");
});

/** Code points of `s` a terminal may act on: C0 and C1 controls, DEL, line and bidi marks. */
function terminalControls(s: string): number[] {
  return [...s].map((c) => c.codePointAt(0)!).filter((n) =>
    n < 0x20 || (n >= 0x7f && n <= 0x9f) || n === 0x2028 || n === 0x2029 ||
    (n >= 0x202a && n <= 0x202e) || (n >= 0x2066 && n <= 0x2069)
  );
}

Deno.test("text form: no control character or terminal escape reaches the terminal", () => {
  const hostile = "\x1b[2J\x1b]0;owned\x07 \u009b31m \x7f \u202e evil\nnext line\r";
  const line = formatLogLine("text", {
    level: "warn",
    component: "server",
    event: "x",
    v: hostile,
  });
  expect(terminalControls(line)).toEqual([]);
  expect(parseLogLine(line)?.v).toBe(hostile);
  const key = formatLogLine("text", {
    level: "info",
    component: "c",
    event: "e",
    o: { k: hostile },
  });
  expect(terminalControls(key)).toEqual([]);
  expect(JSON.parse(parseLogLine(key)?.o as string)).toEqual({ k: hostile });
});
