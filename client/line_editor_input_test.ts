/**
 * How the line editor reads its input: chunking, UTF-8 and escape
 * sequences split across chunks, unknown keys, pastes and other input sources.
 */
import { expect } from "expect";
import { LineEditor, readLines } from "./line_editor.ts";
import { encoder, harness, LEFT, line, settle } from "@fastchat/testing/line_editor_harness";

Deno.test("keys typed one chunk at a time", async () => {
  const h = harness();
  const result = h.editor.readLine();
  for (const ch of "hi there") h.push(ch);
  h.push("\n");
  expect(await result).toBe("hi there");
  h.editor.close();
});

Deno.test("UTF-8 split across chunks", async () => {
  const h = harness();
  let result = h.editor.readLine();
  const e = [...encoder.encode("é")];
  const grin = [...encoder.encode("😀")];
  h.push("caf");
  h.push([e[0]]);
  await settle();
  h.push([e[1]]);
  h.push([grin[0]]);
  h.push(grin.slice(1, 3));
  await settle();
  h.push([grin[3], 0x0d]);
  expect(await result).toBe("café😀");
  expect(h.screen.lines()).toEqual(["> café😀"]);

  // Backspace and arrows step over whole characters.
  result = h.editor.readLine();
  h.push(`a😀b${LEFT}\x7fe\u0301${LEFT}X\x05\x7f\x7f\r`);
  expect(await result).toBe("aX");
  h.editor.close();
});

Deno.test("escape sequences split across chunks", async () => {
  const h = harness();
  const result = h.editor.readLine();
  h.push("ab");
  h.push("\x1b");
  await settle();
  h.push("[");
  await settle();
  h.push("D");
  h.push("X\x1b[");
  h.push("3");
  await settle();
  h.push("~\x1bO");
  await settle();
  h.push("H>\r");
  expect(await result).toBe(">aX");
  h.editor.close();
});

Deno.test("unknown escape sequences and control keys are ignored", async () => {
  expect(
    await line("a\x1b[15~\x1bOP\x1b[1;5P\x1b[200~b\x1b[201~\x1b[?1;2c\x1b[<0;3;4Mc\x07\x1a\r"),
  ).toBe("abc");
  expect(await line("a\x1bxb\x1b\x1b[Dc\r")).toBe("axcb"); // lone ESC dropped
  expect(await line("a\tb\r")).toBe("a b");
});

Deno.test("paste with newlines submits line by line, keeping the rest", async () => {
  const h = harness();
  h.push("abc\ndef\n");
  expect(await h.editor.readLine()).toBe("abc");
  expect(await h.editor.readLine()).toBe("def");

  h.push("one\r\ntwo\r\nthr");
  expect(await h.editor.readLine()).toBe("one");
  expect(await h.editor.readLine()).toBe("two"); // CRLF is one line end
  const third = h.editor.readLine();
  h.push("ee\r");
  expect(await third).toBe("three");

  h.push("a\r\rb\r"); // CR CR: an empty line in between
  expect(await h.editor.readLine()).toBe("a");
  expect(await h.editor.readLine()).toBe("");
  expect(await h.editor.readLine()).toBe("b");
  h.editor.close();
});

Deno.test("an async iterable works as input", async () => {
  async function* keys(): AsyncGenerator<Uint8Array> {
    yield encoder.encode("fir");
    await settle();
    yield encoder.encode("st\rsecond\r");
  }
  const out: string[] = [];
  const editor = new LineEditor({ input: keys(), write: (s) => out.push(s) });
  expect(await editor.readLine()).toBe("first");
  expect(await editor.readLine()).toBe("second");
  expect(await editor.readLine()).toBe(null);
  editor.close();
});

Deno.test("readLines is still exported by the line_editor entry point", async () => {
  const lines: string[] = [];
  for await (const l of readLines(ReadableStream.from([encoder.encode("a\r\nb")]))) lines.push(l);
  expect(lines).toEqual(["a", "b"]);
});
