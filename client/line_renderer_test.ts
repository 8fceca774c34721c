import { expect } from "expect";
import { LineRenderer } from "./line_renderer.ts";

const CLEAR = "\r\x1b[2K\x1b[J";

Deno.test("draws prompt and text; the cursor at the end needs no movement", () => {
  const renderer = new LineRenderer(() => 80);
  expect(renderer.draw({ prompt: "> ", text: "hello", cursor: 5 })).toBe("> hello");
  expect(renderer.cursorRow).toBe(0);
  expect(renderer.clear()).toBe(CLEAR);
});

Deno.test("a cursor inside the text is placed with CR and cursor-right", () => {
  const renderer = new LineRenderer();
  expect(renderer.draw({ prompt: "> ", text: "helo", cursor: 3 })).toBe("> helo\r\x1b[5C");
  expect(renderer.draw({ prompt: "", text: "abc", cursor: 0 })).toBe("abc\r");
});

Deno.test("prompt colours take no room; a newline in the prompt adds a row", () => {
  const renderer = new LineRenderer(() => 10);
  const prompt = "\x1b[36m#room\x1b[39m> ";
  expect(renderer.draw({ prompt, text: "ab", cursor: 0 })).toBe(prompt + "ab\r\x1b[7C");
  expect(renderer.draw({ prompt: "status\n> ", text: "ab", cursor: 2 })).toBe("status\n> ab");
  expect(renderer.cursorRow).toBe(1);
  expect(renderer.clear()).toBe("\x1b[1A" + CLEAR);
});

Deno.test("a long line wraps; clear moves up from the cursor's row", () => {
  const renderer = new LineRenderer(() => 10);
  const view = { prompt: "> ", text: "abcdefghijklmnop", cursor: 16 };
  expect(renderer.draw(view)).toBe("> abcdefghijklmnop");
  expect(renderer.cursorRow).toBe(1);
  expect(renderer.clear()).toBe("\x1b[1A" + CLEAR);
  expect(renderer.cursorRow).toBe(0);
  expect(renderer.draw({ ...view, cursor: 0 })).toBe("> abcdefghijklmnop\x1b[1A\r\x1b[2C");
  expect(renderer.cursorRow).toBe(0);
  expect(renderer.clear()).toBe(CLEAR);
});

Deno.test("a line that exactly fills a row moves the cursor to the next row", () => {
  const renderer = new LineRenderer(() => 10);
  expect(renderer.draw({ prompt: "> ", text: "abcdefgh", cursor: 8 })).toBe("> abcdefgh\r\n");
  expect(renderer.cursorRow).toBe(1);
  // With the cursor on the last character it goes back up to it.
  expect(renderer.draw({ prompt: "> ", text: "abcdefgh", cursor: 7 })).toBe(
    "> abcdefgh\r\n\x1b[1A\r\x1b[9C",
  );
  expect(renderer.cursorRow).toBe(0);
});

Deno.test("a wide character that does not fit moves to the next row", () => {
  const renderer = new LineRenderer(() => 10);
  // "> a日本語" takes 9 columns; the next "日" starts row 1.
  expect(renderer.draw({ prompt: "> ", text: "a日本語日本", cursor: 6 })).toBe("> a日本語日本");
  expect(renderer.cursorRow).toBe(1);
  expect(renderer.draw({ prompt: "> ", text: "a日本語日本", cursor: 4 })).toBe("> a日本語日本\r");
  expect(renderer.cursorRow).toBe(1);
  expect(renderer.draw({ prompt: "> ", text: "a日本語日本", cursor: 3 })).toBe(
    "> a日本語日本\x1b[1A\r\x1b[7C",
  );
  expect(renderer.cursorRow).toBe(0);
});

Deno.test("a mask replaces each character; an empty mask shows nothing", () => {
  const renderer = new LineRenderer();
  expect(renderer.draw({ prompt: "pin: ", text: "1é3", cursor: 3 })).toBe("pin: 1é3");
  expect(renderer.draw({ prompt: "pin: ", text: "1é3", cursor: 4, mask: "*" })).toBe("pin: ***");
  expect(renderer.draw({ prompt: "pin: ", text: "1é3", cursor: 1, mask: "*" })).toBe(
    "pin: ***\r\x1b[6C",
  );
  expect(renderer.draw({ prompt: "password: ", text: "s3cret", cursor: 2, mask: "" })).toBe(
    "password: ",
  );
});

Deno.test("reset forgets the drawn rows", () => {
  const renderer = new LineRenderer(() => 5);
  renderer.draw({ prompt: "> ", text: "abcdef", cursor: 6 });
  expect(renderer.cursorRow).toBe(1);
  renderer.reset();
  expect(renderer.cursorRow).toBe(0);
  expect(renderer.clear()).toBe(CLEAR);
});

Deno.test("the width is asked at each draw; unusable widths fall back", () => {
  let columns = 5;
  const renderer = new LineRenderer(() => columns);
  renderer.draw({ prompt: "", text: "abcdef", cursor: 6 });
  expect(renderer.cursorRow).toBe(1);
  columns = 80;
  renderer.draw({ prompt: "", text: "abcdef", cursor: 6 });
  expect(renderer.cursorRow).toBe(0);
  for (const width of [0, NaN, 5.9]) {
    columns = width;
    renderer.draw({ prompt: "", text: "abcdefghij", cursor: 10 });
    expect([width, renderer.cursorRow]).toEqual([width, width === 5.9 ? 2 : 0]);
  }
  columns = -3; // at least one column
  renderer.draw({ prompt: "", text: "abc", cursor: 3 });
  expect(renderer.cursorRow).toBe(3);
});
