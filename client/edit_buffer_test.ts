import { expect } from "expect";
import { EditBuffer, type EditCommand } from "./edit_buffer.ts";

/** A buffer holding `text` with the cursor at `cursor` (default: the end). */
function buffer(text: string, cursor = text.length): EditBuffer {
  const b = new EditBuffer();
  b.set(text, cursor);
  return b;
}

/** Applies `commands` to `text` (cursor at `cursor`) and returns [text, cursor]. */
function edit(text: string, cursor: number, ...commands: EditCommand[]): [string, number] {
  const b = buffer(text, cursor);
  for (const c of commands) b.apply(c);
  return [b.text, b.cursor];
}

Deno.test("EditBuffer starts empty; insert puts text at the cursor", () => {
  const b = new EditBuffer();
  expect([b.text, b.cursor, b.killed]).toEqual(["", 0, ""]);
  b.insert("hllo");
  expect([b.text, b.cursor]).toEqual(["hllo", 4]);
  b.set(b.text, 1);
  b.insert("e");
  expect([b.text, b.cursor]).toEqual(["hello", 2]);
});

Deno.test("EditBuffer.set puts the cursor at the end unless told otherwise", () => {
  const b = new EditBuffer();
  b.set("recalled");
  expect(b.cursor).toBe(8);
  b.set("abc", 0);
  expect([b.text, b.cursor]).toEqual(["abc", 0]);
});

Deno.test("moving by character steps over whole graphemes", () => {
  const text = "a😀e\u0301b"; // boundaries 0, 1, 3, 5, 6
  expect(edit(text, 6, "move-left")).toEqual([text, 5]);
  expect(edit(text, 5, "move-left")).toEqual([text, 3]);
  expect(edit(text, 3, "move-left")).toEqual([text, 1]);
  expect(edit(text, 0, "move-left")).toEqual([text, 0]);
  expect(edit(text, 1, "move-right")).toEqual([text, 3]);
  expect(edit(text, 3, "move-right")).toEqual([text, 5]);
  expect(edit(text, 6, "move-right")).toEqual([text, 6]);
  expect(edit(text, 3, "move-start")).toEqual([text, 0]);
  expect(edit(text, 3, "move-end")).toEqual([text, 6]);
});

Deno.test("Backspace and Delete remove one grapheme and do not kill", () => {
  expect(edit("a😀b", 3, "delete-left")).toEqual(["ab", 1]);
  expect(edit("a😀b", 1, "delete-right")).toEqual(["ab", 1]);
  expect(edit("ae\u0301", 3, "delete-left")).toEqual(["a", 1]);
  expect(edit("ab", 0, "delete-left")).toEqual(["ab", 0]);
  expect(edit("ab", 2, "delete-right")).toEqual(["ab", 2]);
  const b = buffer("abc");
  b.apply("delete-left");
  expect(b.killed).toBe("");
});

Deno.test("an inserted combining mark joins the grapheme before the cursor", () => {
  const b = buffer("ab", 1);
  b.insert("\u0301");
  expect([b.text, b.cursor]).toEqual(["a\u0301b", 2]);
  b.apply("delete-left");
  expect([b.text, b.cursor]).toEqual(["b", 0]);
});

Deno.test("word movement skips non-word characters, then word characters", () => {
  expect(edit("foo bar", 7, "move-word-left")).toEqual(["foo bar", 4]);
  expect(edit("foo bar", 4, "move-word-left")).toEqual(["foo bar", 0]);
  expect(edit("foo-bar  ", 9, "move-word-left")).toEqual(["foo-bar  ", 4]);
  expect(edit("foo bar", 0, "move-word-right")).toEqual(["foo bar", 3]);
  expect(edit("foo bar", 3, "move-word-right")).toEqual(["foo bar", 7]);
  expect(edit("snake_case2 x", 0, "move-word-right")).toEqual(["snake_case2 x", 11]);
  expect(edit("über straße", 11, "move-word-left")).toEqual(["über straße", 5]);
  expect(edit("a 😀😀 b", 0, "move-word-right", "move-word-right")).toEqual(["a 😀😀 b", 8]);
});

Deno.test("kill commands remove text and remember it", () => {
  const cases: [string, number, EditCommand, string, number, string][] = [
    ["hello world", 6, "kill-to-start", "world", 0, "hello "],
    ["hello world", 5, "kill-to-end", "hello", 5, " world"],
    ["hello big world", 15, "kill-space-word-left", "hello big ", 10, "world"],
    ["hello big world  ", 17, "kill-space-word-left", "hello big ", 10, "world  "],
    ["foo-bar", 7, "kill-space-word-left", "", 0, "foo-bar"],
    ["foo-bar", 7, "kill-word-left", "foo-", 4, "bar"],
    ["foo bar", 0, "kill-word-right", " bar", 0, "foo"],
    ["foo bar", 3, "kill-word-right", "foo", 3, " bar"],
  ];
  for (const [text, cursor, command, after, afterCursor, killed] of cases) {
    const b = buffer(text, cursor);
    b.apply(command);
    expect([command, b.text, b.cursor, b.killed]).toEqual([command, after, afterCursor, killed]);
  }
});

Deno.test("a kill that removes nothing keeps the previous kill", () => {
  const b = buffer("one two");
  b.apply("kill-space-word-left");
  b.apply("kill-to-end");
  b.apply("move-start");
  b.apply("kill-to-start");
  expect(b.killed).toBe("two");
});

Deno.test("yank inserts the last kill, also into a later line", () => {
  const b = buffer("hello world");
  b.apply("yank"); // nothing killed yet
  expect(b.text).toBe("hello world");
  b.apply("kill-space-word-left");
  b.apply("move-start");
  b.apply("yank");
  expect([b.text, b.cursor]).toEqual(["worldhello ", 5]);
  b.set("", 0);
  b.apply("yank");
  b.apply("yank");
  expect([b.text, b.cursor]).toEqual(["worldworld", 10]);
});
