/**
 * Editing keys of the line editor: typing, cursor movement, deletion,
 * kill and yank, word movement and history recall.
 */
import { expect } from "expect";
import {
  DOWN,
  harness,
  LEFT,
  line,
  RIGHT,
  settle,
  UP,
} from "@fastchat/testing/line_editor_harness";

Deno.test("typing a line and Enter", async () => {
  const h = harness();
  const result = h.editor.readLine();
  h.push("hello");
  await settle();
  expect(h.screen.lines()).toEqual(["> hello"]);
  h.push("\r");
  expect(await result).toBe("hello");
  expect(h.output().startsWith("\r> ")).toBe(true);
  expect(h.output().endsWith("\n")).toBe(true);
  h.editor.close();
});

Deno.test("backspace in the middle of the line", async () => {
  expect(await line(`helxlo${LEFT}${LEFT}\x7f\r`)).toBe("hello");
  expect(await line(`helxlo${LEFT}${LEFT}\x08\r`)).toBe("hello");
  expect(await line(`\x7f\x7fab\x7f\r`)).toBe("a"); // backspace on empty is harmless
});

Deno.test("arrows move the cursor and text is inserted there", async () => {
  expect(await line(`hllo${LEFT}${LEFT}${LEFT}e\r`)).toBe("hello");
  expect(await line(`ac${LEFT}${LEFT}${LEFT}${RIGHT}b\r`)).toBe("abc");
  expect(await line(`ab${RIGHT}${RIGHT}c\r`)).toBe("abc");
  expect(await line(`ac\x02b\x06\x06d\r`)).toBe("abcd"); // Ctrl-B / Ctrl-F
});

Deno.test("Delete removes the character under the cursor", async () => {
  expect(await line(`abc\x01\x1b[3~\r`)).toBe("bc");
  expect(await line(`abc\x1b[3~\r`)).toBe("abc");
  expect(await line(`abc${LEFT}\x04\r`)).toBe("ab"); // Ctrl-D on a non-empty line
});

Deno.test("Home and End in all their encodings", async () => {
  const homes = ["\x1b[H", "\x1bOH", "\x1b[1~", "\x1b[7~", "\x01"];
  const ends = ["\x1b[F", "\x1bOF", "\x1b[4~", "\x1b[8~", "\x05"];
  for (const home of homes) {
    for (const end of ends) {
      expect(await line(`bc${home}a${end}d\r`)).toBe("abcd");
    }
  }
});

Deno.test("Ctrl-U, Ctrl-K, Ctrl-W kill text; Ctrl-Y yanks it back", async () => {
  expect(await line(`hello world${"\x1b[D".repeat(5)}\x15\r`)).toBe("world");
  expect(await line(`hello world\x01${RIGHT.repeat(5)}\x0b\r`)).toBe("hello");
  expect(await line(`hello big world\x17\r`)).toBe("hello big ");
  expect(await line(`hello big world  \x17\r`)).toBe("hello big ");
  expect(await line(`hello big world\x17\x17\r`)).toBe("hello ");
  expect(await line(`one two${LEFT.repeat(3)}\x17\r`)).toBe("two");
  expect(await line(`hello world\x17\x01\x19\r`)).toBe("worldhello ");
});

Deno.test("word movement and deletion with Alt and Ctrl+arrows", async () => {
  expect(await line(`foo bar\x1bbX\r`)).toBe("foo Xbar");
  expect(await line(`foo bar\x1b[1;5DX\r`)).toBe("foo Xbar");
  expect(await line(`foo bar\x01\x1bfX\r`)).toBe("fooX bar");
  expect(await line(`foo bar\x01\x1b[1;5CX\r`)).toBe("fooX bar");
  expect(await line(`foo bar\x01\x1bd\r`)).toBe(" bar");
  expect(await line(`foo-bar\x1b\x7f\r`)).toBe("foo-");
});

Deno.test("history: Up/Down recall submitted lines and the draft", async () => {
  const h = harness();
  const read = async (keys: string) => {
    const result = h.editor.readLine();
    h.push(keys);
    return await result;
  };
  expect(await read("one\r")).toBe("one");
  expect(await read("two\r")).toBe("two");
  expect(await read("two\r")).toBe("two"); // a consecutive duplicate is kept once
  expect(await read("\r")).toBe(""); // empty lines are not kept
  // history: one, two
  expect(await read(`${UP}\r`)).toBe("two");
  expect(await read(`${UP}${UP}${UP}${UP}\r`)).toBe("one"); // stops at the oldest
  // history: one, two, one
  expect(await read(`dr${UP}${UP}${DOWN}${DOWN}\r`)).toBe("dr"); // back to the draft
  // history: one, two, one, dr
  expect(await read(`${UP}${UP}${UP}${DOWN}\r`)).toBe("one");
  // history: one, two, one, dr, one
  expect(await read(`\x10\x10\x0e\r`)).toBe("one"); // Ctrl-P / Ctrl-N
  expect(await read(`${UP}${UP}!\r`)).toBe("dr!"); // recalled lines can be edited
  expect(await read(`${UP}${UP}\r`)).toBe("one"); // ...without changing the history
  expect(await read(`${DOWN}x\r`)).toBe("x"); // Down on the draft: nothing
  h.editor.close();
});
