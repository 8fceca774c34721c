/**
 * Decoding of the keys a terminal in raw mode sends into the commands of the
 * `LineEditor`: printable text (a key or a whole paste), control keys, Alt
 * keys (ESC + key) and the CSI/SS3 sequences of arrows, Home/End and Delete,
 * including their xterm modifier forms. Unknown sequences decode to "ignore"
 * so that they are skipped as a whole.
 *
 * @example
 * ```ts
 * import { decodeKey } from "./key_decoder.ts";
 * decodeKey("\x1b[1;5D"); // { command: "move-word-left", length: 6 }
 * decodeKey("\x1b["); // null: wait for the rest of the sequence
 * ```
 * @module
 */

import type { EditCommand } from "./edit_buffer.ts";

/**
 * What a key asks the line editor to do: an {@link EditCommand} on the input
 * line, or one of
 * - "insert": insert the text of the key (Tab inserts one space),
 * - "submit": Enter (CR),
 * - "line-feed": LF, which ends the line unless it follows a CR (CRLF input),
 * - "interrupt": Ctrl-C (clear the line; quit on an empty one),
 * - "delete-or-end": Ctrl-D (delete under the cursor; end on an empty line),
 * - "clear-screen": Ctrl-L,
 * - "history-previous"/"history-next": Up/Down, Ctrl-P/Ctrl-N,
 * - "ignore": a key or sequence without a binding.
 *
 * @example
 * ```ts
 * import type { KeyCommand } from "./key_decoder.ts";
 * const enter: KeyCommand = "submit";
 * ```
 */
export type KeyCommand =
  | EditCommand
  | "insert"
  | "submit"
  | "line-feed"
  | "interrupt"
  | "delete-or-end"
  | "clear-screen"
  | "history-previous"
  | "history-next"
  | "ignore";

/**
 * One key decoded by {@link decodeKey}: its command, and how many UTF-16
 * code units of the input it took. An "insert" carries the text to insert.
 *
 * @example
 * ```ts
 * import { type DecodedKey, decodeKey } from "./key_decoder.ts";
 * const key: DecodedKey | null = decodeKey("abc\r");
 * if (key?.command === "insert") console.log(key.text, key.length); // "abc" 3
 * ```
 */
export type DecodedKey =
  | { readonly command: "insert"; readonly text: string; readonly length: number }
  | { readonly command: Exclude<KeyCommand, "insert">; readonly length: number };

// deno-lint-ignore no-control-regex
const PRINTABLE_RUN = /^[^\x00-\x1f\x7f-\x9f]+/;
// deno-lint-ignore no-control-regex
const CSI = /^\x1b\[([0-?]*)([ -/]*)([@-~])/;
// deno-lint-ignore no-control-regex
const CSI_PREFIX = /^\x1b\[[0-?]*[ -/]*$/;
/** The commands that take no text. */
type NonInsertCommand = Exclude<KeyCommand, "insert">;

/** Longest incomplete CSI sequence waited for; a longer one is dropped as malformed. */
const MAX_ESCAPE = 64;

const CONTROL_KEYS: ReadonlyMap<string, NonInsertCommand> = new Map([
  ["\r", "submit"],
  ["\n", "line-feed"],
  ["\x01", "move-start"], // Ctrl-A
  ["\x02", "move-left"], // Ctrl-B
  ["\x03", "interrupt"], // Ctrl-C
  ["\x04", "delete-or-end"], // Ctrl-D
  ["\x05", "move-end"], // Ctrl-E
  ["\x06", "move-right"], // Ctrl-F
  ["\x08", "delete-left"], // Ctrl-H
  ["\x7f", "delete-left"], // Backspace
  ["\x0b", "kill-to-end"], // Ctrl-K
  ["\x0c", "clear-screen"], // Ctrl-L
  ["\x0e", "history-next"], // Ctrl-N
  ["\x10", "history-previous"], // Ctrl-P
  ["\x15", "kill-to-start"], // Ctrl-U
  ["\x17", "kill-space-word-left"], // Ctrl-W
  ["\x19", "yank"], // Ctrl-Y
]);

/** ESC followed by these: Alt-B, Alt-F, Alt-D, Alt-Backspace. */
const ALT_KEYS: ReadonlyMap<string, NonInsertCommand> = new Map([
  ["b", "move-word-left"],
  ["B", "move-word-left"],
  ["f", "move-word-right"],
  ["F", "move-word-right"],
  ["d", "kill-word-right"],
  ["D", "kill-word-right"],
  ["\x7f", "kill-word-left"],
  ["\x08", "kill-word-left"],
]);

/** "ESC [ n ~" keys by n: Home (1, 7), End (4, 8), Delete (3). */
const TILDE_KEYS: ReadonlyMap<string, NonInsertCommand> = new Map([
  ["1", "move-start"],
  ["7", "move-start"],
  ["4", "move-end"],
  ["8", "move-end"],
  ["3", "delete-right"],
]);

/**
 * Decodes the key at the start of `input` (decoded UTF-8 text as typed).
 * Returns `null` when `input` is empty or starts with an escape sequence
 * that is not complete yet: call again when more input has arrived. A run
 * of printable characters is one "insert"; a lone or unknown ESC is ignored
 * alone, so what follows it is decoded normally.
 *
 * @example
 * ```ts
 * import { decodeKey } from "./key_decoder.ts";
 * let input = "hi\x1b[D!\r";
 * for (let key; (key = decodeKey(input)) !== null; input = input.slice(key.length)) {
 *   console.log(key.command); // insert, move-left, insert, submit
 * }
 * ```
 */
export function decodeKey(input: string): DecodedKey | null {
  const printable = PRINTABLE_RUN.exec(input);
  if (printable) return { command: "insert", text: printable[0], length: printable[0].length };
  if (input === "") return null;
  const first = input[0];
  if (first === "\x1b") return decodeEscape(input);
  // Tab: one space (tabs have no fixed width on the input line).
  if (first === "\t") return { command: "insert", text: " ", length: 1 };
  return { command: CONTROL_KEYS.get(first) ?? "ignore", length: 1 };
}

function decodeEscape(input: string): DecodedKey | null {
  if (input.length < 2) return null;
  const second = input[1];
  if (second === "[") {
    const m = CSI.exec(input);
    if (!m) {
      if (CSI_PREFIX.test(input) && input.length < MAX_ESCAPE) return null;
      return { command: "ignore", length: 2 }; // malformed: drop "ESC ["
    }
    return { command: csiCommand(m[1], m[2], m[3]), length: m[0].length };
  }
  if (second === "O") {
    if (input.length < 3) return null;
    return { command: csiCommand("", "", input[2]), length: 3 };
  }
  const alt = ALT_KEYS.get(second);
  if (alt) return { command: alt, length: 2 };
  return { command: "ignore", length: 1 }; // lone or unknown ESC: drop it alone
}

function csiCommand(params: string, intermediates: string, final: string): NonInsertCommand {
  if (intermediates !== "") return "ignore";
  const [first, modifier] = params.split(";");
  const word = modifier === "3" || modifier === "5"; // Alt or Ctrl
  switch (final) {
    case "A":
      return "history-previous";
    case "B":
      return "history-next";
    case "C":
      return word ? "move-word-right" : "move-right";
    case "D":
      return word ? "move-word-left" : "move-left";
    case "H":
      return "move-start";
    case "F":
      return "move-end";
    case "~":
      return TILDE_KEYS.get(first) ?? "ignore";
  }
  // anything else (function keys, paste brackets, focus, mouse): ignored
  return "ignore";
}
