import { expect } from "expect";
import { decodeKey, type KeyCommand } from "./key_decoder.ts";

/** Decodes `input` completely: the commands (insert shown as its text) and anything left. */
function decodeAll(input: string): { keys: string[]; rest: string } {
  const keys: string[] = [];
  for (let key; (key = decodeKey(input)) !== null; input = input.slice(key.length)) {
    keys.push(key.command === "insert" ? `insert:${key.text}` : key.command);
  }
  return { keys, rest: input };
}

Deno.test("a run of printable text is one insert", () => {
  expect(decodeKey("hello wörld 😀\rmore")).toEqual({
    command: "insert",
    text: "hello wörld 😀",
    length: 14,
  });
  expect(decodeAll("ab\x7fc")).toEqual({
    keys: ["insert:ab", "delete-left", "insert:c"],
    rest: "",
  });
});

Deno.test("control keys", () => {
  const expected: [string, KeyCommand][] = [
    ["\r", "submit"],
    ["\n", "line-feed"],
    ["\x01", "move-start"],
    ["\x02", "move-left"],
    ["\x03", "interrupt"],
    ["\x04", "delete-or-end"],
    ["\x05", "move-end"],
    ["\x06", "move-right"],
    ["\x08", "delete-left"],
    ["\x7f", "delete-left"],
    ["\x0b", "kill-to-end"],
    ["\x0c", "clear-screen"],
    ["\x0e", "history-next"],
    ["\x10", "history-previous"],
    ["\x15", "kill-to-start"],
    ["\x17", "kill-space-word-left"],
    ["\x19", "yank"],
    ["\x00", "ignore"],
    ["\x07", "ignore"],
    ["\x1a", "ignore"],
    ["\x85", "ignore"], // C1 control
  ];
  for (const [input, command] of expected) {
    expect([input, decodeKey(input + "x")]).toEqual([input, { command, length: 1 }]);
  }
});

Deno.test("Tab inserts one space", () => {
  expect(decodeKey("\tx")).toEqual({ command: "insert", text: " ", length: 1 });
});

Deno.test("arrows, Home, End and Delete in CSI and SS3 form", () => {
  const expected: [string, KeyCommand][] = [
    ["\x1b[A", "history-previous"],
    ["\x1b[B", "history-next"],
    ["\x1b[C", "move-right"],
    ["\x1b[D", "move-left"],
    ["\x1bOA", "history-previous"],
    ["\x1bOD", "move-left"],
    ["\x1b[H", "move-start"],
    ["\x1bOH", "move-start"],
    ["\x1b[1~", "move-start"],
    ["\x1b[7~", "move-start"],
    ["\x1b[F", "move-end"],
    ["\x1bOF", "move-end"],
    ["\x1b[4~", "move-end"],
    ["\x1b[8~", "move-end"],
    ["\x1b[3~", "delete-right"],
    ["\x1b[3;5~", "delete-right"],
  ];
  for (const [input, command] of expected) {
    expect([input, decodeKey(input + "x")]).toEqual([input, { command, length: input.length }]);
  }
});

Deno.test("Alt and Ctrl arrows move by word; other modifiers do not", () => {
  expect(decodeKey("\x1b[1;5D")).toEqual({ command: "move-word-left", length: 6 });
  expect(decodeKey("\x1b[1;3D")).toEqual({ command: "move-word-left", length: 6 });
  expect(decodeKey("\x1b[1;5C")).toEqual({ command: "move-word-right", length: 6 });
  expect(decodeKey("\x1b[1;2C")).toEqual({ command: "move-right", length: 6 }); // Shift
  expect(decodeKey("\x1b[1;5A")).toEqual({ command: "history-previous", length: 6 });
});

Deno.test("Alt keys", () => {
  const expected: [string, KeyCommand][] = [
    ["\x1bb", "move-word-left"],
    ["\x1bB", "move-word-left"],
    ["\x1bf", "move-word-right"],
    ["\x1bF", "move-word-right"],
    ["\x1bd", "kill-word-right"],
    ["\x1bD", "kill-word-right"],
    ["\x1b\x7f", "kill-word-left"],
    ["\x1b\x08", "kill-word-left"],
  ];
  for (const [input, command] of expected) {
    expect([input, decodeKey(input)]).toEqual([input, { command, length: 2 }]);
  }
});

Deno.test("incomplete escape sequences wait for more input", () => {
  for (const input of ["", "\x1b", "\x1b[", "\x1b[1", "\x1b[1;5", "\x1bO", "\x1b[200"]) {
    expect([input, decodeKey(input)]).toEqual([input, null]);
  }
});

Deno.test("unknown sequences are ignored whole; a lone ESC alone", () => {
  expect(decodeAll("\x1b[15~\x1bOP\x1b[1;5P\x1b[200~b\x1b[201~\x1b[?1;2c\x1b[<0;3;4M")).toEqual({
    keys: Array(4).fill("ignore").concat("insert:b", "ignore", "ignore", "ignore"),
    rest: "",
  });
  expect(decodeKey("\x1b[ q")).toEqual({ command: "ignore", length: 4 }); // intermediate byte
  expect(decodeKey("\x1bOAx")).toEqual({ command: "history-previous", length: 3 });
  expect(decodeKey("\x1bO\r")).toEqual({ command: "ignore", length: 3 });
  expect(decodeAll("\x1bx")).toEqual({ keys: ["ignore", "insert:x"], rest: "" });
  expect(decodeAll("\x1b\x1b[D")).toEqual({ keys: ["ignore", "move-left"], rest: "" });
});

Deno.test("a malformed or overlong CSI drops only ESC [", () => {
  expect(decodeAll("\x1b[\x01")).toEqual({ keys: ["ignore", "move-start"], rest: "" });
  const long = "\x1b[" + "1".repeat(62); // 64 chars, still no final byte
  expect(decodeKey(long)).toEqual({ command: "ignore", length: 2 });
  expect(decodeKey(long.slice(0, 63))).toBe(null);
});
