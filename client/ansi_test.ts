import { expect } from "expect";
import {
  colorEnabledByDefault,
  graphemes,
  graphemeWidth,
  makeStyle,
  stripAnsi,
  visibleWidth,
} from "./ansi.ts";

Deno.test("makeStyle(true) wraps text in SGR codes", () => {
  const s = makeStyle(true);
  expect(s.enabled).toBe(true);
  expect(s.bold("x")).toBe("\x1b[1mx\x1b[22m");
  expect(s.dim("x")).toBe("\x1b[2mx\x1b[22m");
  expect(s.red("x")).toBe("\x1b[31mx\x1b[39m");
  expect(s.green("x")).toBe("\x1b[32mx\x1b[39m");
  expect(s.yellow("x")).toBe("\x1b[33mx\x1b[39m");
  expect(s.blue("x")).toBe("\x1b[34mx\x1b[39m");
  expect(s.magenta("x")).toBe("\x1b[35mx\x1b[39m");
  expect(s.cyan("x")).toBe("\x1b[36mx\x1b[39m");
  expect(s.gray("x")).toBe("\x1b[90mx\x1b[39m");
});

Deno.test("makeStyle(true) keeps the outer colour after a nested one", () => {
  const s = makeStyle(true);
  const text = s.red("a" + s.cyan("b") + "c");
  expect(text).toBe("\x1b[31ma\x1b[36mb\x1b[39m\x1b[31mc\x1b[39m");
  expect(stripAnsi(text)).toBe("abc");
});

Deno.test("makeStyle(false) returns text unchanged", () => {
  const s = makeStyle(false);
  expect(s.enabled).toBe(false);
  for (const f of [s.bold, s.dim, s.red, s.green, s.yellow, s.blue, s.magenta, s.cyan, s.gray]) {
    expect(f("plain")).toBe("plain");
  }
});

Deno.test("colorEnabledByDefault respects NO_COLOR, TERM=dumb and the terminal check", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  expect(colorEnabledByDefault({ env: env({}), isTerminal: () => true })).toBe(true);
  expect(colorEnabledByDefault({ env: env({}), isTerminal: () => false })).toBe(false);
  expect(colorEnabledByDefault({ env: env({ NO_COLOR: "1" }), isTerminal: () => true })).toBe(
    false,
  );
  // An empty NO_COLOR does not count (no-color.org).
  expect(colorEnabledByDefault({ env: env({ NO_COLOR: "" }), isTerminal: () => true })).toBe(true);
  expect(colorEnabledByDefault({ env: env({ TERM: "dumb" }), isTerminal: () => true })).toBe(
    false,
  );
});

Deno.test("stripAnsi removes CSI, OSC and short escapes", () => {
  expect(stripAnsi("\x1b[1;31mred\x1b[0m")).toBe("red");
  expect(stripAnsi("\x1b[2K\r\x1b[3Aup")).toBe("\rup");
  expect(stripAnsi("\x1b]8;;https://x.org\x07link\x1b]8;;\x07")).toBe("link");
  expect(stripAnsi("\x1b]0;title\x1b\\t")).toBe("t");
  expect(stripAnsi("a\x1bMb")).toBe("ab");
  expect(stripAnsi("no escapes")).toBe("no escapes");
});

Deno.test("visibleWidth counts columns", () => {
  expect(visibleWidth("")).toBe(0);
  expect(visibleWidth("hello")).toBe(5);
  expect(visibleWidth(makeStyle(true).bold(makeStyle(true).red("hi")))).toBe(2);
  expect(visibleWidth("café")).toBe(4);
  expect(visibleWidth("cafe\u0301")).toBe(4); // combining accent
  expect(visibleWidth("日本語")).toBe(6);
  expect(visibleWidth("한국")).toBe(4);
  expect(visibleWidth("ｆｕｌｌ")).toBe(8); // fullwidth forms
  expect(visibleWidth("👍")).toBe(2);
  expect(visibleWidth("👍🏽")).toBe(2); // with skin tone modifier
  expect(visibleWidth("👨‍👩‍👧")).toBe(2); // ZWJ sequence
  expect(visibleWidth("🇫🇷")).toBe(2); // flag
  expect(visibleWidth("❤️")).toBe(2); // text symbol + VS16
  expect(visibleWidth("a\tb")).toBe(2); // control characters take no column
});

Deno.test("graphemeWidth and graphemes", () => {
  expect(graphemeWidth("a")).toBe(1);
  expect(graphemeWidth("é")).toBe(1);
  expect(graphemeWidth("漢")).toBe(2);
  expect(graphemeWidth("\u0301")).toBe(0);
  expect(graphemeWidth("\x07")).toBe(0);
  expect(graphemes("abc")).toEqual(["a", "b", "c"]);
  expect(graphemes("ae\u0301👍🏽🇫🇷")).toEqual(["a", "e\u0301", "👍🏽", "🇫🇷"]);
  expect(graphemes("")).toEqual([]);
});
