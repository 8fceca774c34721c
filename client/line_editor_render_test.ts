/**
 * What the line editor draws: secrets never echoed, printing while a line
 * is typed, wrapped and wide lines, clear screen and prompt changes.
 */
import { expect } from "expect";
import { stripAnsi } from "./ansi.ts";
import { harness, LEFT, settle, UP } from "@fastchat/testing/line_editor_harness";

Deno.test("readSecret never writes the secret", async () => {
  const h = harness();
  const result = h.editor.readSecret("Password: ");
  h.push("hun");
  await settle();
  h.push(`ter2${LEFT}\x7f2\r`);
  expect(await result).toBe("hunte22");
  const shown = stripAnsi(h.output());
  expect(shown).toContain("Password: ");
  expect(shown.replaceAll("Password: ", "")).toMatch(/^[\r\n]*$/);
  expect(h.screen.lines()).toEqual(["Password:"]);

  // A mask shows one symbol per character; history is not offered nor recorded.
  h.clearOutput();
  const masked = h.editor.readSecret("pin: ", { mask: "*" });
  h.push(`12${UP}3\r`);
  expect(await masked).toBe("123");
  expect(h.output()).toContain("pin: ***");
  expect(stripAnsi(h.output())).not.toMatch(/[123]/);

  h.clearOutput();
  const next = h.editor.readLine();
  h.push(`${UP}\r`);
  expect(await next).toBe("");
  expect(h.screen.lines().at(-1)).toBe(">");
  h.editor.close();
});

Deno.test("print while typing redraws prompt and partial line below the text", async () => {
  const h = harness();
  const result = h.editor.readLine();
  h.push("hel");
  await settle();
  h.clearOutput();
  h.editor.print("bob: hi");
  expect(h.output()).toBe("\r\x1b[2K\x1b[Jbob: hi\n> hel");
  h.editor.print("carol: line 1\ncarol: line 2");
  expect(h.output().endsWith("> hel")).toBe(true);
  expect(h.screen.lines()).toEqual(["bob: hi", "carol: line 1", "carol: line 2", "> hel"]);
  h.push("lo\r");
  expect(await result).toBe("hello");
  expect(h.screen.lines()).toEqual(["bob: hi", "carol: line 1", "carol: line 2", "> hello"]);
  expect(h.screen.row).toBe(4);
  h.editor.close();
});

Deno.test("print keeps the cursor position inside the line", async () => {
  const h = harness();
  const result = h.editor.readLine();
  h.push(`helo${LEFT}`);
  await settle();
  h.editor.print("\x1b[36mnews\x1b[39m");
  expect(h.screen.lines()).toEqual(["news", "> helo"]);
  expect([h.screen.row, h.screen.col]).toEqual([1, 5]);
  h.push("l\r");
  expect(await result).toBe("hello");
  h.editor.close();
});

Deno.test("print without an active read writes the text and a newline", () => {
  const h = harness();
  h.editor.print("hello");
  expect(h.output()).toBe("hello\n");
  h.editor.close();
});

Deno.test("a line wrapping over several rows is cleared and redrawn whole", async () => {
  const h = harness(10);
  const result = h.editor.readLine();
  h.push("abcdefghijklmnop");
  await settle();
  expect(h.screen.lines()).toEqual(["> abcdefgh", "ijklmnop"]);
  expect([h.screen.row, h.screen.col]).toEqual([1, 8]);
  h.push("\x01");
  await settle();
  expect([h.screen.row, h.screen.col]).toEqual([0, 2]);
  h.editor.print("msg");
  expect(h.screen.lines()).toEqual(["msg", "> abcdefgh", "ijklmnop"]);
  expect([h.screen.row, h.screen.col]).toEqual([1, 2]);
  h.push("\x05\x7f\x7f\x7f\x7f\x7f\x7f");
  await settle();
  expect(h.screen.lines()).toEqual(["msg", "> abcdefgh", "ij"]);
  h.push("\x7f\x7f"); // exactly fills the first row: the cursor moves to the next row
  await settle();
  expect(h.screen.lines()).toEqual(["msg", "> abcdefgh"]);
  expect([h.screen.row, h.screen.col]).toEqual([2, 0]);
  h.editor.print("second");
  expect(h.screen.lines()).toEqual(["msg", "second", "> abcdefgh"]);
  expect([h.screen.row, h.screen.col]).toEqual([3, 0]);
  h.push("\x7f");
  await settle();
  expect(h.screen.lines()).toEqual(["msg", "second", "> abcdefg"]);
  h.push("\r");
  expect(await result).toBe("abcdefg");
  h.editor.close();
});

Deno.test("wide characters wrap as the terminal wraps them", async () => {
  const h = harness(10);
  const result = h.editor.readLine();
  h.push("a日本語日本");
  await settle();
  // "日" does not fit in the last column of the first row.
  expect(h.screen.lines()).toEqual(["> a日本語", "日本"]);
  expect([h.screen.row, h.screen.col]).toEqual([1, 4]);
  h.push(LEFT.repeat(2));
  await settle();
  expect([h.screen.row, h.screen.col]).toEqual([1, 0]);
  h.editor.print("x");
  expect(h.screen.lines()).toEqual(["x", "> a日本語", "日本"]);
  expect([h.screen.row, h.screen.col]).toEqual([2, 0]);
  h.push("\r");
  expect(await result).toBe("a日本語日本");
  h.editor.close();
});

Deno.test("Ctrl-L clears the screen and redraws the line", async () => {
  const h = harness();
  h.editor.print("old");
  const result = h.editor.readLine();
  h.push("ab\x0c");
  await settle();
  expect(h.output()).toContain("\x1b[H\x1b[2J");
  expect(h.screen.lines()).toEqual(["> ab"]);
  h.push("\r");
  expect(await result).toBe("ab");
  h.editor.close();
});

Deno.test("setPrompt during a read redraws the line", async () => {
  const h = harness();
  const result = h.editor.readLine();
  h.push("msg");
  await settle();
  h.editor.setPrompt("\x1b[32m#room\x1b[39m> ");
  expect(h.screen.lines()).toEqual(["#room> msg"]);
  h.push("\r");
  expect(await result).toBe("msg");
  h.editor.close();
});
