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

import { EditBuffer } from "./edit_buffer.ts";
import { decodeKey } from "./key_decoder.ts";
import { KeyInput } from "./key_input.ts";
import { type HistoryBrowser, LineHistory } from "./line_history.ts";
import { LineRenderer } from "./line_renderer.ts";

export { readLines } from "./read_lines.ts";

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

interface Request {
  prompt: string;
  readonly secret: boolean;
  readonly mask: string;
  readonly resolve: (line: string | null) => void;
  /** Up/Down position; null for a secret read (no history). */
  readonly history: HistoryBrowser | null;
}

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
  readonly #input: KeyInput;
  readonly #write: (text: string) => void;
  readonly #setRaw?: (raw: boolean) => void;
  readonly #history: LineHistory;
  readonly #renderer: LineRenderer;
  /** The input line of the active read (and the kill buffer, kept across reads). */
  readonly #buffer = new EditBuffer();
  #prompt = "";
  #active: Request | null = null;
  #pumping = false;
  #closed = false;
  #raw = false;
  /** Swallow a "\n" right after a "\r" that submitted (CRLF input). */
  #skipLf = false;
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
    this.#input = new KeyInput(options.input);
    this.#write = options.write;
    this.#setRaw = options.setRaw;
    this.#renderer = new LineRenderer(options.columns ?? (() => 80));
    this.#history = new LineHistory(options.historySize ?? 500);
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
          return 80; // not a terminal (or gone): the usual width
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
    if (this.#active) this.#write(this.#renderer.clear() + text + "\n" + this.#drawSeq());
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
    this.#input.clear();
    if (this.#raw) {
      this.#raw = false;
      try {
        this.#setRaw?.(false);
      } catch {
        // terminal already gone
      }
    }
    this.#input.cancel();
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
      history: secret ? null : this.#history.browse(),
    };
    this.#buffer.set("", 0);
    this.#renderer.reset();
    this.#write("\r" + this.#drawSeq());
    this.#process();
    if (this.#active && this.#input.ended) this.#endOfInput();
    if (this.#active && !this.#pumping) this.#pump();
    return promise;
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#active && !this.#input.ended && !this.#closed) {
        await this.#input.read();
        if (this.#closed) return;
        this.#process();
        if (this.#input.ended && this.#active) this.#endOfInput();
      }
    } finally {
      this.#pumping = false;
    }
  }

  #endOfInput(): void {
    this.#input.clear(); // an unfinished escape sequence
    const text = this.#buffer.text;
    this.#finish(text === "" ? null : text, "\n");
  }

  #finish(result: string | null, trailer: string): void {
    const req = this.#active!;
    const buffer = this.#buffer;
    if (this.#dirty || buffer.cursor !== buffer.text.length) {
      // Show the final input with the cursor after it, so the trailer leaves it intact.
      buffer.apply("move-end");
      this.#redraw();
    }
    this.#active = null;
    if (result !== null && !req.secret) this.#history.add(result);
    this.#renderer.reset();
    this.#write(trailer);
    req.resolve(result);
  }

  // ---- key handling -----------------------------------------------------

  /** Consumes queued input while a read is active; redraws once at the end. */
  #process(): void {
    while (this.#active && this.#input.pending.length > 0) {
      const req = this.#active;
      const used = this.#key(req, this.#input.pending);
      if (used === 0) break; // incomplete escape sequence: wait for more
      this.#input.consume(used);
      if (this.#active === req) this.#dirty = true;
    }
    if (this.#dirty && this.#active) this.#redraw();
  }

  /** Handles the key at the start of `input`; returns chars consumed, 0 if incomplete. */
  #key(req: Request, input: string): number {
    const skipLf = this.#skipLf;
    this.#skipLf = false;
    const key = decodeKey(input);
    if (key === null) return 0; // incomplete escape sequence
    const buffer = this.#buffer;
    switch (key.command) {
      case "insert":
        buffer.insert(key.text);
        break;
      case "submit":
        this.#skipLf = true;
        this.#finish(buffer.text, "\n");
        break;
      case "line-feed":
        if (!skipLf) this.#finish(buffer.text, "\n");
        break;
      case "interrupt":
        if (buffer.text === "") this.#finish(null, "\n");
        else buffer.set("", 0);
        break;
      case "delete-or-end":
        if (buffer.text === "") this.#finish(null, "\n");
        else buffer.apply("delete-right");
        break;
      case "clear-screen":
        this.#write("\x1b[H\x1b[2J");
        this.#renderer.reset();
        break;
      case "history-previous":
      case "history-next": {
        const line = req.history?.move(key.command === "history-next" ? +1 : -1, buffer.text);
        if (line != null) buffer.set(line);
        break;
      }
      case "ignore":
        break;
      default:
        buffer.apply(key.command);
    }
    return key.length;
  }

  // ---- drawing ----------------------------------------------------------

  #redraw(): void {
    this.#dirty = false;
    this.#write(this.#renderer.clear() + this.#drawSeq());
  }

  /** Draws prompt + input from column 0 of the current row and places the cursor. */
  #drawSeq(): string {
    const req = this.#active!;
    return this.#renderer.draw({
      prompt: req.prompt,
      text: this.#buffer.text,
      cursor: this.#buffer.cursor,
      mask: req.secret ? req.mask : undefined,
    });
  }
}
