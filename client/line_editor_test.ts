import { expect } from "expect";
import { graphemes, graphemeWidth, stripAnsi } from "./ansi.ts";
import { LineEditor, readLines } from "./line_editor.ts";

const encoder = new TextEncoder();

/** Lets queued chunks reach the editor (resolves after pending microtasks). */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

interface Harness {
  editor: LineEditor;
  /** Sends one chunk: a string (UTF-8 encoded) or raw bytes. */
  push(chunk: string | number[]): void;
  /** Ends the input. */
  end(): void;
  /** Everything written so far. */
  output(): string;
  /** Forgets the output recorded so far. */
  clearOutput(): void;
  raw: boolean[];
  screen: Screen;
}

function harness(columns = 80, prompt = "> "): Harness {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const input = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  let out: string[] = [];
  const raw: boolean[] = [];
  const screen = new Screen(columns);
  const editor = new LineEditor({
    input,
    write: (s) => {
      out.push(s);
      screen.feed(s);
    },
    setRaw: (r) => raw.push(r),
    columns: () => columns,
  });
  editor.setPrompt(prompt);
  return {
    editor,
    push: (chunk) =>
      controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : new Uint8Array(chunk)),
    end: () => controller.close(),
    output: () => out.join(""),
    clearOutput: () => {
      out = [];
    },
    raw,
    screen,
  };
}

/** Types `keys` (one chunk) and returns the line that readLine resolves with. */
async function line(keys: string, columns = 80): Promise<string | null> {
  const h = harness(columns);
  const result = h.editor.readLine();
  h.push(keys);
  const value = await result;
  h.editor.close();
  return value;
}

/**
 * A tiny terminal: enough VT100 to replay the editor's output (printable text
 * with auto-wrap and the pending-wrap column, CR, LF as CR+LF, cursor up /
 * right, erase line / below / screen, home, SGR ignored).
 */
class Screen {
  rows: string[][] = [[]];
  row = 0;
  col = 0;
  #wrapPending = false;
  constructor(readonly cols: number) {}

  feed(text: string): void {
    let i = 0;
    while (i < text.length) {
      const ch = text[i];
      if (ch === "\x1b") {
        // deno-lint-ignore no-control-regex
        const m = /^\x1b\[([0-9;]*)([A-Za-z~])/.exec(text.slice(i));
        if (!m) throw new Error(`unsupported escape ${JSON.stringify(text.slice(i, i + 8))}`);
        this.#csi(m[1], m[2]);
        i += m[0].length;
      } else if (ch === "\r") {
        this.col = 0;
        this.#wrapPending = false;
        i++;
      } else if (ch === "\n") {
        this.col = 0; // the tty's ONLCR output translation
        this.#moveRow(this.row + 1);
        i++;
      } else {
        // deno-lint-ignore no-control-regex
        const run = /^[^\x00-\x1f\x7f]+/.exec(text.slice(i));
        if (!run) throw new Error(`unexpected control ${JSON.stringify(ch)}`);
        for (const g of graphemes(run[0])) this.#put(g, graphemeWidth(g));
        i += run[0].length;
      }
    }
  }

  /** Visible text of each row, trailing blanks trimmed, trailing empty rows dropped. */
  lines(): string[] {
    const out = this.rows.map((cells) => cells.map((c) => c ?? " ").join("").trimEnd());
    while (out.length > 0 && out.at(-1) === "") out.pop();
    return out;
  }

  #moveRow(row: number): void {
    this.row = Math.max(0, row);
    while (this.rows.length <= this.row) this.rows.push([]);
    this.#wrapPending = false;
  }

  #put(g: string, width: number): void {
    if (this.#wrapPending || this.col + width > this.cols) {
      this.col = 0;
      this.#moveRow(this.row + 1);
    }
    const cells = this.rows[this.row];
    cells[this.col] = g;
    if (width === 2) cells[this.col + 1] = "";
    this.col += width;
    if (this.col >= this.cols) {
      this.col = this.cols - 1;
      this.#wrapPending = true;
    }
  }

  #csi(params: string, final: string): void {
    const n = Number(params || "1");
    switch (final) {
      case "A":
        this.#moveRow(this.row - n);
        return;
      case "C":
        this.col = Math.min(this.cols - 1, this.col + n);
        this.#wrapPending = false;
        return;
      case "K": // only "2K" is used
        this.rows[this.row] = [];
        return;
      case "J":
        if (params === "2") {
          this.rows = this.rows.map(() => []);
        } else {
          this.rows[this.row].length = this.col;
          this.rows.length = this.row + 1;
        }
        return;
      case "H":
        this.row = 0;
        this.col = 0;
        this.#wrapPending = false;
        return;
      case "m":
        return;
      default:
        throw new Error(`unsupported CSI ${params}${final}`);
    }
  }
}

const LEFT = "\x1b[D";
const RIGHT = "\x1b[C";
const UP = "\x1b[A";
const DOWN = "\x1b[B";

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

Deno.test("keys typed one chunk at a time", async () => {
  const h = harness();
  const result = h.editor.readLine();
  for (const ch of "hi there") h.push(ch);
  h.push("\n");
  expect(await result).toBe("hi there");
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
