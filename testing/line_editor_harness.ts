/**
 * A {@link LineEditor} wired to a hand-fed input stream, a recorded output and
 * a {@link Screen}, for the line editor's tests: push keys, await lines, look
 * at what the terminal shows.
 *
 * @example
 * ```ts
 * import { harness, LEFT } from "@fastchat/testing/line_editor_harness";
 * const h = harness(40);
 * const result = h.editor.readLine();
 * h.push(`ac${LEFT}b\r`);
 * console.log(await result); // "abc"
 * h.editor.close();
 * ```
 * @module
 */
import { LineEditor } from "@fastchat/client/line_editor";
import { Screen } from "./vt_screen.ts";

/**
 * Encodes the strings that tests push as input.
 *
 * @example
 * ```ts
 * import { encoder } from "@fastchat/testing/line_editor_harness";
 * console.log(encoder.encode("é").length); // 2
 * ```
 */
export const encoder: TextEncoder = new TextEncoder();

/**
 * Lets queued chunks reach the editor (resolves after pending microtasks).
 *
 * @example
 * ```ts
 * import { settle } from "@fastchat/testing/line_editor_harness";
 * await settle();
 * ```
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * An editor under test with its input, output and terminal mode calls.
 *
 * @example
 * ```ts
 * import { harness, type Harness } from "@fastchat/testing/line_editor_harness";
 * const h: Harness = harness();
 * console.log(h.raw); // [] until the first read
 * ```
 */
export interface Harness {
  /** The editor, its prompt already set. */
  editor: LineEditor;
  /** Sends one chunk: a string (UTF-8 encoded) or raw bytes. */
  push(chunk: string | number[]): void;
  /** Ends the input. */
  end(): void;
  /** Everything written so far. */
  output(): string;
  /** Forgets the output recorded so far. */
  clearOutput(): void;
  /** Every `setRaw` call's argument, in order. */
  raw: boolean[];
  /** The terminal that replays everything written. */
  screen: Screen;
}

/**
 * An editor on a terminal `columns` wide showing `prompt`.
 *
 * @example
 * ```ts
 * import { harness } from "@fastchat/testing/line_editor_harness";
 * const h = harness(20, "$ ");
 * const result = h.editor.readLine();
 * h.push("ls\r");
 * console.log(await result, h.screen.lines()); // "ls" ["$ ls"]
 * h.editor.close();
 * ```
 */
export function harness(columns = 80, prompt = "> "): Harness {
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

/**
 * Types `keys` (one chunk) and returns the line that readLine resolves with.
 *
 * @example
 * ```ts
 * import { line } from "@fastchat/testing/line_editor_harness";
 * console.log(await line("hi\x7f\x7fyo\r")); // "yo"
 * ```
 */
export async function line(keys: string, columns = 80): Promise<string | null> {
  const h = harness(columns);
  const result = h.editor.readLine();
  h.push(keys);
  const value = await result;
  h.editor.close();
  return value;
}

/**
 * Arrow keys as a terminal sends them.
 *
 * @example
 * ```ts
 * import { line, LEFT } from "@fastchat/testing/line_editor_harness";
 * console.log(await line(`b${LEFT}a\r`)); // "ab"
 * ```
 */
export const LEFT = "\x1b[D";
/** Right arrow (see {@link LEFT}). */
export const RIGHT = "\x1b[C";
/** Up arrow (see {@link LEFT}). */
export const UP = "\x1b[A";
/** Down arrow (see {@link LEFT}). */
export const DOWN = "\x1b[B";
