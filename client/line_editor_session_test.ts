/**
 * The line editor's read lifecycle: Ctrl-C and Ctrl-D, end of input, the
 * terminal's raw mode and concurrent reads.
 */
import { expect } from "expect";
import { harness, settle } from "@fastchat/testing/line_editor_harness";

Deno.test("Ctrl-C clears a non-empty line and quits on an empty one", async () => {
  const h = harness();
  let result = h.editor.readLine();
  h.push("oops\x03fine\r");
  expect(await result).toBe("fine");
  result = h.editor.readLine();
  h.push("\x03");
  expect(await result).toBe(null);
  h.editor.close();
});

Deno.test("Ctrl-D on an empty line resolves null; the editor stays usable", async () => {
  const h = harness();
  let result = h.editor.readLine();
  h.push("\x04");
  expect(await result).toBe(null);
  result = h.editor.readLine();
  h.push("again\r");
  expect(await result).toBe("again");
  h.editor.close();
});

Deno.test("end of input resolves null (after a partly typed line)", async () => {
  const h = harness();
  h.push("last");
  h.end();
  expect(await h.editor.readLine()).toBe("last");
  expect(await h.editor.readLine()).toBe(null);
  expect(await h.editor.readLine()).toBe(null);
  h.editor.close();

  const h2 = harness();
  const result = h2.editor.readLine();
  h2.push("\x1b["); // unfinished escape at the end is dropped
  await settle();
  h2.end();
  expect(await result).toBe(null);
  h2.editor.close();
});

Deno.test("setRaw: on at the first read, off at close; close is idempotent", async () => {
  const h = harness();
  expect(h.raw).toEqual([]);
  const first = h.editor.readLine();
  expect(h.raw).toEqual([true]);
  h.push("x\r");
  expect(await first).toBe("x");
  const second = h.editor.readLine();
  expect(h.raw).toEqual([true]); // stays raw between reads
  h.editor.close();
  expect(await second).toBe(null); // close ends an active read
  expect(h.raw).toEqual([true, false]);
  h.editor.close();
  expect(h.raw).toEqual([true, false]);
  expect(await h.editor.readLine()).toBe(null);
  h.editor.print("after");
  expect(h.output().endsWith("after\n")).toBe(true);
});

Deno.test("close without a read does not touch the terminal mode", () => {
  const h = harness();
  h.editor.close();
  expect(h.raw).toEqual([]);
});

Deno.test("a second concurrent read is rejected", async () => {
  const h = harness();
  const first = h.editor.readLine();
  await expect(h.editor.readLine()).rejects.toThrow("already active");
  h.push("ok\r");
  expect(await first).toBe("ok");
  h.editor.close();
});
