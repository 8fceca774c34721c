/**
 * A raw-mode line editor for the chat TUI: the user types on the bottom line
 * while incoming messages are printed above it with {@link LineEditor.print},
 * without breaking what is being typed. All logic runs on an injected byte
 * input and `write` function, so it is testable without a terminal;
 * {@link LineEditor.forTerminal} wires it to the real one.
 *
 * Keys: printable text (UTF-8, pastes), Enter, Backspace/Ctrl-H, Delete,
 * Left/Right (Ctrl-B/Ctrl-F), Ctrl/Alt+Left/Right and Alt-B/Alt-F (word),
 * Home/End (Ctrl-A/Ctrl-E), Up/Down (Ctrl-P/Ctrl-N) history, Ctrl-U (kill to
 * start), Ctrl-K (kill to end), Ctrl-W and Alt-Backspace (kill previous
 * word), Alt-D (kill next word), Ctrl-Y (yank last kill), Ctrl-L (clear
 * screen), Ctrl-C (clear the line; on an empty line: quit, result `null`),
 * Ctrl-D (delete under cursor; on an empty line: end, result `null`). Tab
 * inserts a space; other control keys and unknown escape sequences are
 * ignored.
 *
 * When stdin is not a terminal do not use the editor: read lines with
 * {@link readLines} instead.
 *
 * @example
 * ```ts
 * import { LineEditor } from "@fastchat/client/line_editor";
 * const editor = LineEditor.forTerminal();
 * try {
 *   editor.setPrompt("> ");
 *   const timer = setInterval(() => editor.print("bob: hi"), 1000);
 *   for (let line; (line = await editor.readLine()) !== null;) editor.print(`you: ${line}`);
 *   clearInterval(timer);
 * } finally {
 *   editor.close();
 * }
 * ```
 * @module
 */

import { graphemes, graphemeWidth, stripAnsi, visibleWidth } from "./ansi.ts";

/**
 * Where a {@link LineEditor} reads from and writes to.
 *
 * @example
 * ```ts
 * import type { LineEditorOptions } from "@fastchat/client/line_editor";
 * const options: LineEditorOptions = {
 *   input: ReadableStream.from([new TextEncoder().encode("hi\r")]),
 *   write: () => {},
 *   setRaw: () => {},
 *   columns: () => 80,
 * };
 * ```
 */
export interface LineEditorOptions {
  /** Raw key bytes (a terminal's stdin in raw mode). */
  readonly input: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
  /** Writes terminal output (text and escape sequences) synchronously. */
  readonly write: (text: string) => void;
  /** Switches the terminal between raw (true) and cooked (false) mode. */
  readonly setRaw?: (raw: boolean) => void;
  /** Current terminal width in columns (default 80). */
  readonly columns?: () => number;
  /** Most submitted lines kept for Up/Down (default 500). */
  readonly historySize?: number;
}

/**
 * Options of {@link LineEditor.readSecret}.
 *
 * @example
 * ```ts
 * import type { SecretOptions } from "@fastchat/client/line_editor";
 * const masked: SecretOptions = { mask: "*" };
 * ```
 */
export interface SecretOptions {
  /** Echoed once per character typed; "" (the default) echoes nothing. */
  readonly mask?: string;
}

interface ByteSource {
  next(): Promise<IteratorResult<Uint8Array>>;
  cancel(): void;
}

function byteSource(input: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): ByteSource {
  if (input instanceof ReadableStream) {
    const reader = input.getReader();
    return {
      next: async () => {
        const r = await reader.read();
        return r.done ? { done: true, value: undefined } : { done: false, value: r.value };
      },
      cancel: () => {
        reader.cancel().catch(() => {});
      },
    };
  }
  const iterator = input[Symbol.asyncIterator]();
  return {
    next: () => iterator.next(),
    cancel: () => {
      iterator.return?.()?.catch(() => {});
    },
  };
}

interface Pos {
  row: number;
  col: number;
}

interface Request {
  prompt: string;
  readonly secret: boolean;
  readonly mask: string;
  readonly resolve: (line: string | null) => void;
  buffer: string;
  /** UTF-16 offset into buffer, always on a grapheme boundary. */
  cursor: number;
  /** Index into history while browsing; history.length = the draft line. */
  historyIndex: number;
  draft: string;
}

// deno-lint-ignore no-control-regex
const PRINTABLE_RUN = /^[^\x00-\x1f\x7f-\x9f]+/;
// deno-lint-ignore no-control-regex
const CSI = /^\x1b\[([0-?]*)([ -/]*)([@-~])/;
// deno-lint-ignore no-control-regex
const CSI_PREFIX = /^\x1b\[[0-?]*[ -/]*$/;
const WORD_CHAR = /[\p{L}\p{N}_]/u;
const MAX_ESCAPE = 64;

/**
 * Line editor for a terminal in raw mode. One `readLine`/`readSecret` at a
 * time; `print` may be called at any moment.
 *
 * Bytes typed while no read is active stay queued (type-ahead) and are used
 * by the next read; text after an Enter inside one pasted chunk likewise.
 *
 * Terminal restore: `close()` switches back to cooked mode and is
 * idempotent. {@link LineEditor.forTerminal} also closes on the `unload`
 * event (normal exit and `Deno.exit()`). Raw mode turns Ctrl-C into a key, so
 * it never raises SIGINT while the editor is running; a signal handler the
 * application installs (SIGTERM, SIGHUP) should call `close()` before exiting.
 *
 * Output assumes the terminal still translates "\n" to "\r\n" in raw mode,
 * which `Deno.stdin.setRaw` leaves on.
 *
 * @example
 * ```ts
 * import { LineEditor } from "@fastchat/client/line_editor";
 * const input = ReadableStream.from([new TextEncoder().encode("hello\r")]);
 * let output = "";
 * const editor = new LineEditor({ input, write: (s) => output += s });
 * editor.setPrompt("> ");
 * console.log(await editor.readLine()); // "hello"
 * editor.close();
 * ```
 */
export class LineEditor {
  readonly #source: ByteSource;
  readonly #write: (text: string) => void;
  readonly #setRaw?: (raw: boolean) => void;
  readonly #columns: () => number;
  readonly #historySize: number;
  readonly #decoder = new TextDecoder();
  readonly #history: string[] = [];
  #prompt = "";
  #pending = "";
  #active: Request | null = null;
  #pumping = false;
  #eof = false;
  #closed = false;
  #raw = false;
  /** Swallow a "\n" right after a "\r" that submitted (CRLF input). */
  #skipLf = false;
  /** Row of the terminal cursor within the drawn prompt+input (0 = first row). */
  #cursorRow = 0;
  #killed = "";
  /** Keys changed the input since it was last drawn. */
  #dirty = false;
  #onClose: (() => void) | null = null;

  /**
   * Creates an editor on the given input and output. Nothing is written and
   * raw mode is not entered until the first `readLine`/`readSecret`.
   *
   * @example
   * ```ts
   * import { LineEditor } from "@fastchat/client/line_editor";
   * const editor = new LineEditor({
   *   input: ReadableStream.from<Uint8Array>([]),
   *   write: (s) => Deno.stdout.writeSync(new TextEncoder().encode(s)),
   *   columns: () => 100,
   * });
   * editor.close();
   * ```
   */
  constructor(options: LineEditorOptions) {
    this.#source = byteSource(options.input);
    this.#write = options.write;
    this.#setRaw = options.setRaw;
    this.#columns = options.columns ?? (() => 80);
    this.#historySize = options.historySize ?? 500;
  }

  /**
   * An editor on the process terminal: `Deno.stdin` in raw mode,
   * `Deno.stdout`, and the console width. Throws if stdin is not a terminal
   * (read with {@link readLines} then). Closes itself on the `unload` event.
   *
   * @example
   * ```ts
   * import { LineEditor } from "@fastchat/client/line_editor";
   * if (Deno.stdin.isTerminal()) {
   *   const editor = LineEditor.forTerminal();
   *   const name = await editor.readLine();
   *   editor.close();
   * }
   * ```
   */
  static forTerminal(): LineEditor {
    if (!Deno.stdin.isTerminal()) {
      throw new Error("LineEditor.forTerminal() needs stdin to be a terminal; use readLines()");
    }
    const encoder = new TextEncoder();
    const editor = new LineEditor({
      input: Deno.stdin.readable,
      write: (text) => {
        let bytes = encoder.encode(text);
        while (bytes.length > 0) bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
      },
      setRaw: (raw) => Deno.stdin.setRaw(raw),
      columns: () => {
        try {
          return Deno.consoleSize().columns || 80;
        } catch {
          return 80;
        }
      },
    });
    const onUnload = () => editor.close();
    globalThis.addEventListener("unload", onUnload);
    editor.#onClose = () => globalThis.removeEventListener("unload", onUnload);
    return editor;
  }

  /**
   * Sets the prompt of `readLine` (may contain ANSI colours). During an
   * active `readLine` the input line is redrawn with the new prompt.
   *
   * @example
   * ```ts
   * import { LineEditor } from "@fastchat/client/line_editor";
   * const editor = new LineEditor({ input: ReadableStream.from<Uint8Array>([]), write: () => {} });
   * editor.setPrompt("\x1b[36malice\x1b[39m> ");
   * ```
   */
  setPrompt(prompt: string): void {
    this.#prompt = prompt;
    const req = this.#active;
    if (req && !req.secret && req.prompt !== prompt) {
      req.prompt = prompt;
      this.#redraw();
    }
  }

  /**
   * Reads one line with editing and history. Resolves with the line on Enter
   * (without the newline); with `null` on Ctrl-D or Ctrl-C on an empty line
   * (the user wants to quit), at end of input with nothing typed, or when
   * the editor is closed. Ctrl-C on a non-empty line only clears the line.
   * At end of input a partly typed line is returned first.
   *
   * @example
   * ```ts
   * import { LineEditor } from "@fastchat/client/line_editor";
   * const input = ReadableStream.from([new TextEncoder().encode("hi\r")]);
   * const editor = new LineEditor({ input, write: () => {} });
   * await editor.readLine(); // "hi"
   * await editor.readLine(); // null (end of input)
   * editor.close();
   * ```
   */
  readLine(): Promise<string | null> {
    return this.#read(this.#prompt, false, "");
  }

  /**
   * Reads a line without showing it (passwords): nothing is echoed, or
   * `mask` once per character. Same keys as `readLine` except history; the
   * line is not added to history.
   *
   * @example
   * ```ts
   * import { LineEditor } from "@fastchat/client/line_editor";
   * const input = ReadableStream.from([new TextEncoder().encode("s3cret\r")]);
   * let output = "";
   * const editor = new LineEditor({ input, write: (s) => output += s });
   * await editor.readSecret("password: "); // "s3cret", output has no "s3cret"
   * editor.close();
   * ```
   */
  readSecret(prompt: string, options: SecretOptions = {}): Promise<string | null> {
    return this.#read(prompt, true, options.mask ?? "");
  }

  /**
   * Prints `text` (may span lines, may contain colours) followed by a
   * newline above the input line being edited, then redraws the prompt and
   * the partial input with the cursor where it was. Without an active read
   * it just writes `text` and a newline.
   *
   * @example
   * ```ts
   * import { LineEditor } from "@fastchat/client/line_editor";
   * const editor = new LineEditor({
   *   input: ReadableStream.from<Uint8Array>([]),
   *   write: (s) => Deno.stdout.writeSync(new TextEncoder().encode(s)),
   * });
   * editor.print("[12:00] bob: hello");
   * ```
   */
  print(text: string): void {
    if (this.#active) this.#write(this.#clearSeq() + text + "\n" + this.#drawSeq());
    else this.#write(text + "\n");
  }

  /**
   * Ends editing: an active read resolves `null`, the terminal returns to
   * cooked mode, and the input is cancelled (so a pending read of stdin no
   * longer keeps the process alive; stdin cannot be read afterwards). Safe to
   * call more than once; later reads resolve `null` and `print` writes
   * plainly.
   *
   * @example
   * ```ts
   * import { LineEditor } from "@fastchat/client/line_editor";
   * const editor = new LineEditor({ input: ReadableStream.from<Uint8Array>([]), write: () => {} });
   * editor.close();
   * editor.close(); // no-op
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#active) this.#finish(null, "\n");
    this.#pending = "";
    if (this.#raw) {
      this.#raw = false;
      try {
        this.#setRaw?.(false);
      } catch {
        // terminal already gone
      }
    }
    this.#source.cancel();
    this.#onClose?.();
    this.#onClose = null;
  }

  // ---- reading ----------------------------------------------------------

  #read(prompt: string, secret: boolean, mask: string): Promise<string | null> {
    if (this.#active) return Promise.reject(new Error("LineEditor: a read is already active"));
    if (this.#closed) return Promise.resolve(null);
    if (!this.#raw && this.#setRaw) {
      this.#setRaw(true);
      this.#raw = true;
    }
    const { promise, resolve } = Promise.withResolvers<string | null>();
    this.#active = {
      prompt,
      secret,
      mask,
      resolve,
      buffer: "",
      cursor: 0,
      historyIndex: this.#history.length,
      draft: "",
    };
    this.#cursorRow = 0;
    this.#write("\r" + this.#drawSeq());
    this.#process();
    if (this.#active && this.#eof) this.#endOfInput();
    if (this.#active && !this.#pumping) this.#pump();
    return promise;
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#active && !this.#eof && !this.#closed) {
        let result: IteratorResult<Uint8Array>;
        try {
          result = await this.#source.next();
        } catch {
          result = { done: true, value: undefined };
        }
        if (this.#closed) return;
        if (result.done) {
          this.#eof = true;
          this.#pending += this.#decoder.decode();
          this.#process();
          if (this.#active) this.#endOfInput();
        } else {
          this.#pending += this.#decoder.decode(result.value, { stream: true });
          this.#process();
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  #endOfInput(): void {
    const req = this.#active!;
    this.#pending = ""; // an unfinished escape sequence
    this.#finish(req.buffer === "" ? null : req.buffer, "\n");
  }

  #finish(result: string | null, trailer: string): void {
    const req = this.#active!;
    if (this.#dirty || req.cursor !== req.buffer.length) {
      // Show the final input with the cursor after it, so the trailer leaves it intact.
      req.cursor = req.buffer.length;
      this.#redraw();
    }
    this.#active = null;
    if (result !== null && !req.secret && result !== "") {
      if (this.#history.at(-1) !== result) this.#history.push(result);
      if (this.#history.length > this.#historySize) this.#history.shift();
    }
    this.#cursorRow = 0;
    this.#write(trailer);
    req.resolve(result);
  }

  // ---- key handling -----------------------------------------------------

  /** Consumes queued input while a read is active; redraws once at the end. */
  #process(): void {
    while (this.#active && this.#pending.length > 0) {
      const req = this.#active;
      const used = this.#key(req, this.#pending);
      if (used === 0) break; // incomplete escape sequence: wait for more
      this.#pending = this.#pending.slice(used);
      if (this.#active === req) this.#dirty = true;
    }
    if (this.#dirty && this.#active) this.#redraw();
  }

  /** Handles the key at the start of `input`; returns chars consumed, 0 if incomplete. */
  #key(req: Request, input: string): number {
    const skipLf = this.#skipLf;
    this.#skipLf = false;
    const printable = PRINTABLE_RUN.exec(input);
    if (printable) {
      this.#insert(req, printable[0]);
      return printable[0].length;
    }
    const c = input.charCodeAt(0);
    switch (c) {
      case 0x0d: // Enter (CR)
        this.#skipLf = true;
        this.#finish(req.buffer, "\n");
        return 1;
      case 0x0a: // LF
        if (!skipLf) this.#finish(req.buffer, "\n");
        return 1;
      case 0x01: // Ctrl-A
        this.#moveTo(req, 0);
        return 1;
      case 0x02: // Ctrl-B
        this.#moveTo(req, this.#prevBoundary(req));
        return 1;
      case 0x03: // Ctrl-C
        if (req.buffer === "") this.#finish(null, "\n");
        else this.#setBuffer(req, "", 0);
        return 1;
      case 0x04: // Ctrl-D
        if (req.buffer === "") this.#finish(null, "\n");
        else this.#deleteRange(req, req.cursor, this.#nextBoundary(req), false);
        return 1;
      case 0x05: // Ctrl-E
        this.#moveTo(req, req.buffer.length);
        return 1;
      case 0x06: // Ctrl-F
        this.#moveTo(req, this.#nextBoundary(req));
        return 1;
      case 0x08: // Ctrl-H
      case 0x7f: // Backspace
        this.#deleteRange(req, this.#prevBoundary(req), req.cursor, false);
        return 1;
      case 0x09: // Tab: one space (tabs have no fixed width on the input line)
        this.#insert(req, " ");
        return 1;
      case 0x0b: // Ctrl-K
        this.#deleteRange(req, req.cursor, req.buffer.length, true);
        return 1;
      case 0x0c: // Ctrl-L
        this.#write("\x1b[H\x1b[2J");
        this.#cursorRow = 0;
        return 1;
      case 0x0e: // Ctrl-N
        this.#historyMove(req, +1);
        return 1;
      case 0x10: // Ctrl-P
        this.#historyMove(req, -1);
        return 1;
      case 0x15: // Ctrl-U
        this.#deleteRange(req, 0, req.cursor, true);
        return 1;
      case 0x17: // Ctrl-W
        this.#deleteRange(req, this.#wordStart(req, /\S/u), req.cursor, true);
        return 1;
      case 0x19: // Ctrl-Y
        if (this.#killed) this.#insert(req, this.#killed);
        return 1;
      case 0x1b:
        return this.#escape(req, input);
      default:
        return 1; // other control characters are ignored
    }
  }

  #escape(req: Request, input: string): number {
    if (input.length < 2) return 0;
    const second = input[1];
    if (second === "[") {
      const m = CSI.exec(input);
      if (!m) {
        if (CSI_PREFIX.test(input) && input.length < MAX_ESCAPE) return 0;
        return 2; // malformed: drop "ESC ["
      }
      this.#csi(req, m[1], m[2], m[3]);
      return m[0].length;
    }
    if (second === "O") {
      if (input.length < 3) return 0;
      this.#csi(req, "", "", input[2]);
      return 3;
    }
    switch (second) {
      case "b":
      case "B":
        this.#moveTo(req, this.#wordStart(req, WORD_CHAR));
        return 2;
      case "f":
      case "F":
        this.#moveTo(req, this.#wordEnd(req));
        return 2;
      case "d":
      case "D":
        this.#deleteRange(req, req.cursor, this.#wordEnd(req), true);
        return 2;
      case "\x7f":
      case "\x08":
        this.#deleteRange(req, this.#wordStart(req, WORD_CHAR), req.cursor, true);
        return 2;
      default:
        return 1; // lone or unknown ESC: drop it, handle what follows normally
    }
  }

  #csi(req: Request, params: string, intermediates: string, final: string): void {
    if (intermediates !== "") return;
    const [first, modifier] = params.split(";");
    const word = modifier === "3" || modifier === "5"; // Alt or Ctrl
    switch (final) {
      case "A":
        this.#historyMove(req, -1);
        return;
      case "B":
        this.#historyMove(req, +1);
        return;
      case "C":
        this.#moveTo(req, word ? this.#wordEnd(req) : this.#nextBoundary(req));
        return;
      case "D":
        this.#moveTo(req, word ? this.#wordStart(req, WORD_CHAR) : this.#prevBoundary(req));
        return;
      case "H":
        this.#moveTo(req, 0);
        return;
      case "F":
        this.#moveTo(req, req.buffer.length);
        return;
      case "~":
        switch (first) {
          case "1":
          case "7":
            this.#moveTo(req, 0);
            return;
          case "4":
          case "8":
            this.#moveTo(req, req.buffer.length);
            return;
          case "3":
            this.#deleteRange(req, req.cursor, this.#nextBoundary(req), false);
            return;
        }
    }
    // anything else (function keys, paste brackets, focus, mouse): ignored
  }

  // ---- buffer editing ---------------------------------------------------

  #insert(req: Request, text: string): void {
    req.buffer = req.buffer.slice(0, req.cursor) + text + req.buffer.slice(req.cursor);
    req.cursor = this.#snap(req.buffer, req.cursor + text.length);
  }

  #deleteRange(req: Request, from: number, to: number, kill: boolean): void {
    if (to <= from) return;
    if (kill) this.#killed = req.buffer.slice(from, to);
    req.buffer = req.buffer.slice(0, from) + req.buffer.slice(to);
    req.cursor = this.#snap(req.buffer, from);
  }

  #setBuffer(req: Request, buffer: string, cursor: number): void {
    req.buffer = buffer;
    req.cursor = cursor;
  }

  #moveTo(req: Request, cursor: number): void {
    req.cursor = cursor;
  }

  #historyMove(req: Request, delta: number): void {
    if (req.secret) return;
    const index = req.historyIndex + delta;
    if (index < 0 || index > this.#history.length) return;
    if (req.historyIndex === this.#history.length) req.draft = req.buffer;
    req.historyIndex = index;
    const line = index === this.#history.length ? req.draft : this.#history[index];
    this.#setBuffer(req, line, line.length);
  }

  /** Grapheme boundaries (UTF-16 offsets) of `buffer`, from 0 to its length. */
  #boundaries(buffer: string): number[] {
    const out = [0];
    let at = 0;
    for (const g of graphemes(buffer)) out.push(at += g.length);
    return out;
  }

  /** Moves `cursor` forward to the nearest grapheme boundary. */
  #snap(buffer: string, cursor: number): number {
    for (const b of this.#boundaries(buffer)) if (b >= cursor) return b;
    return buffer.length;
  }

  #prevBoundary(req: Request): number {
    let prev = 0;
    for (const b of this.#boundaries(req.buffer)) {
      if (b >= req.cursor) break;
      prev = b;
    }
    return prev;
  }

  #nextBoundary(req: Request): number {
    for (const b of this.#boundaries(req.buffer)) if (b > req.cursor) return b;
    return req.buffer.length;
  }

  /** Start of the word before the cursor: skip non-word chars, then word chars. */
  #wordStart(req: Request, wordChar: RegExp): number {
    const chars = [...req.buffer.slice(0, req.cursor)];
    let i = chars.length;
    while (i > 0 && !wordChar.test(chars[i - 1])) i--;
    while (i > 0 && wordChar.test(chars[i - 1])) i--;
    return this.#snap(req.buffer, chars.slice(0, i).join("").length);
  }

  /** End of the word after the cursor. */
  #wordEnd(req: Request): number {
    const rest = [...req.buffer.slice(req.cursor)];
    let i = 0;
    while (i < rest.length && !WORD_CHAR.test(rest[i])) i++;
    while (i < rest.length && WORD_CHAR.test(rest[i])) i++;
    return this.#snap(req.buffer, req.cursor + rest.slice(0, i).join("").length);
  }

  // ---- drawing ----------------------------------------------------------

  #redraw(): void {
    this.#dirty = false;
    this.#write(this.#clearSeq() + this.#drawSeq());
  }

  /** Moves to the first row of the drawn input and erases it and everything below. */
  #clearSeq(): string {
    const up = this.#cursorRow > 0 ? `\x1b[${this.#cursorRow}A` : "";
    this.#cursorRow = 0;
    return up + "\r\x1b[2K\x1b[J";
  }

  /**
   * Draws prompt + input from column 0 of the current row and places the
   * cursor; updates #cursorRow. Wrapping is simulated cell by cell, so wide
   * characters that do not fit at a row end move to the next row as the
   * terminal does.
   */
  #drawSeq(): string {
    const req = this.#active!;
    const cols = Math.max(1, Math.floor(this.#columns()) || 80);
    let pos: Pos = { row: 0, col: 0 };
    const advance = (width: number): void => {
      if (pos.col + width > cols && pos.col > 0) pos = { row: pos.row + 1, col: 0 };
      pos = { row: pos.row, col: pos.col + width };
    };
    const normalize = (p: Pos): Pos => p.col >= cols ? { row: p.row + 1, col: 0 } : p;

    for (const g of graphemes(stripAnsi(req.prompt))) {
      if (g === "\n" || g === "\r\n") pos = { row: pos.row + 1, col: 0 };
      else advance(graphemeWidth(g));
    }

    let text = "";
    let cursorPos: Pos | null = null;
    let offset = 0;
    for (const g of graphemes(req.buffer)) {
      const shown = req.secret ? req.mask : g;
      const width = req.secret ? visibleWidth(req.mask) : graphemeWidth(g);
      if (cursorPos === null && offset >= req.cursor) {
        cursorPos = normalize(
          pos.col + width > cols && pos.col > 0 ? { row: pos.row + 1, col: 0 } : pos,
        );
      }
      text += shown;
      advance(width);
      offset += g.length;
    }
    let out = req.prompt + text;
    let end = pos;
    if (end.col >= cols) {
      // The cursor sits in the last column waiting to wrap; make the wrap real.
      out += "\r\n";
      end = { row: end.row + 1, col: 0 };
    }
    const cursor = cursorPos ?? end;
    if (cursor.row !== end.row || cursor.col !== end.col) {
      if (end.row > cursor.row) out += `\x1b[${end.row - cursor.row}A`;
      out += "\r";
      if (cursor.col > 0) out += `\x1b[${cursor.col}C`;
    }
    this.#cursorRow = cursor.row;
    return out;
  }
}

/**
 * Yields the lines of a byte stream (script mode, stdin not a terminal):
 * "\n" and "\r\n" end lines, a last line without newline is yielded too,
 * UTF-8 split across chunks is decoded correctly. Stopping early releases the
 * stream without cancelling it.
 *
 * @example
 * ```ts
 * import { readLines } from "@fastchat/client/line_editor";
 * if (!Deno.stdin.isTerminal()) {
 *   for await (const line of readLines(Deno.stdin.readable)) console.log(line);
 * }
 * ```
 */
export async function* readLines(
  input: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let carry = "";
  const emit = function* (text: string, final: boolean): Generator<string> {
    carry += text;
    let nl: number;
    while ((nl = carry.indexOf("\n")) !== -1) {
      const line = carry.slice(0, nl);
      carry = carry.slice(nl + 1);
      yield line.endsWith("\r") ? line.slice(0, -1) : line;
    }
    if (final && carry !== "") {
      const line = carry;
      carry = "";
      yield line.endsWith("\r") ? line.slice(0, -1) : line;
    }
  };
  if (input instanceof ReadableStream) {
    const reader = input.getReader();
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) break;
        yield* emit(decoder.decode(value, { stream: true }), false);
      }
    } finally {
      reader.releaseLock();
    }
  } else {
    for await (const chunk of input) yield* emit(decoder.decode(chunk, { stream: true }), false);
  }
  yield* emit(decoder.decode(), true);
}
