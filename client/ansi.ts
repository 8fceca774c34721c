/**
 * Terminal text helpers for the chat client: ANSI colour/format wrappers that
 * can be switched off (the `--color`/`--no-color` switch, `NO_COLOR`), and
 * width measurement of strings as a terminal displays them (escape sequences
 * take no room, East-Asian wide characters and emoji take two columns,
 * combining marks take none).
 *
 * @example
 * ```ts
 * import { makeStyle, visibleWidth } from "@fastchat/client/ansi";
 * const style = makeStyle(true);
 * const label = style.bold(style.cyan("alice"));
 * console.log(label, visibleWidth(label)); // width 5
 * ```
 * @module
 */

/**
 * A string → string formatter.
 *
 * @example
 * ```ts
 * import type { Format } from "@fastchat/client/ansi";
 * const shout: Format = (text) => text.toUpperCase();
 * ```
 */
export type Format = (text: string) => string;

/**
 * The colour and format wrappers returned by {@link makeStyle}.
 *
 * @example
 * ```ts
 * import { makeStyle, type Style } from "@fastchat/client/ansi";
 * const style: Style = makeStyle(false);
 * style.bold(style.red("plain when disabled"));
 * ```
 */
export interface Style {
  /** Whether the wrappers emit escape sequences (false: they return the text unchanged). */
  readonly enabled: boolean;
  /** Bold text. */
  readonly bold: Format;
  /** Dim (faint) text. */
  readonly dim: Format;
  /** Red foreground. */
  readonly red: Format;
  /** Green foreground. */
  readonly green: Format;
  /** Yellow foreground. */
  readonly yellow: Format;
  /** Blue foreground. */
  readonly blue: Format;
  /** Magenta foreground. */
  readonly magenta: Format;
  /** Cyan foreground. */
  readonly cyan: Format;
  /** Gray (bright black) foreground. */
  readonly gray: Format;
}

function wrap(open: number, close: number): Format {
  const start = `\x1b[${open}m`;
  const end = `\x1b[${close}m`;
  // Re-open after any nested close of the same kind so that
  // red("a" + bold("b") + "c") keeps "c" red / bold("a" + dim("b") + "c") keeps "c" bold.
  return (text: string): string => start + text.replaceAll(end, end + start) + end;
}

const PLAIN: Format = (text: string): string => text;

/**
 * Returns colour/format wrappers. With `enabled` false every wrapper returns
 * its input unchanged, so callers can format unconditionally. Decide
 * `enabled` with {@link colorEnabledByDefault} and the user's colour switch.
 *
 * @example
 * ```ts
 * import { makeStyle } from "@fastchat/client/ansi";
 * makeStyle(true).red("error"); // "\x1b[31merror\x1b[39m"
 * makeStyle(false).red("error"); // "error"
 * ```
 */
export function makeStyle(enabled: boolean): Style {
  if (!enabled) {
    return {
      enabled: false,
      bold: PLAIN,
      dim: PLAIN,
      red: PLAIN,
      green: PLAIN,
      yellow: PLAIN,
      blue: PLAIN,
      magenta: PLAIN,
      cyan: PLAIN,
      gray: PLAIN,
    };
  }
  return {
    enabled: true,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    blue: wrap(34, 39),
    magenta: wrap(35, 39),
    cyan: wrap(36, 39),
    gray: wrap(90, 39),
  };
}

/**
 * Where {@link colorEnabledByDefault} looks; defaults to the real process.
 *
 * @example
 * ```ts
 * import { colorEnabledByDefault, type ColorEnvironment } from "@fastchat/client/ansi";
 * const fake: ColorEnvironment = { env: () => undefined, isTerminal: () => true };
 * colorEnabledByDefault(fake); // true
 * ```
 */
export interface ColorEnvironment {
  /** Value of an environment variable, or undefined when unset. */
  readonly env?: (name: string) => string | undefined;
  /** Whether the output is a terminal. */
  readonly isTerminal?: () => boolean;
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: behave as if unset
  }
}

/**
 * The colour default when the user gave no explicit switch: off when
 * `NO_COLOR` is set to a non-empty value (https://no-color.org), when
 * `TERM=dumb`, or when stdout is not a terminal; on otherwise. An explicit
 * `--color`/`--no-color` from the user should win over this.
 *
 * @example
 * ```ts
 * import { colorEnabledByDefault, makeStyle } from "@fastchat/client/ansi";
 * const style = makeStyle(colorEnabledByDefault());
 * colorEnabledByDefault({ env: () => "1", isTerminal: () => true }); // false (NO_COLOR=1)
 * ```
 */
export function colorEnabledByDefault(environment: ColorEnvironment = {}): boolean {
  const env = environment.env ?? readEnv;
  const noColor = env("NO_COLOR");
  if (noColor !== undefined && noColor !== "") return false;
  if (env("TERM") === "dumb") return false;
  const isTerminal = environment.isTerminal ?? (() => Deno.stdout.isTerminal());
  return isTerminal();
}

// CSI (ESC [ ... final), OSC (ESC ] ... BEL/ST), other two-byte escapes, and
// the 8-bit CSI introducer.
const ANSI_PATTERN =
  // deno-lint-ignore no-control-regex
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]/g;

/**
 * Removes ANSI escape sequences (colours, cursor movement, OSC hyperlinks).
 *
 * @example
 * ```ts
 * import { stripAnsi } from "@fastchat/client/ansi";
 * stripAnsi("\x1b[1m\x1b[31mhi\x1b[39m\x1b[22m"); // "hi"
 * ```
 */
export function stripAnsi(text: string): string {
  return text.includes("\x1b") || text.includes("\x9b") ? text.replace(ANSI_PATTERN, "") : text;
}

// East Asian Wide (W) and Fullwidth (F) blocks, besides emoji (handled by
// the Emoji_Presentation property below). Sorted, inclusive.
const WIDE_RANGES: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f], // Hangul Jamo initial consonants
  [0x2329, 0x232a], // angle brackets
  [0x2e80, 0x303e], // CJK radicals, Kangxi, ideographic description, CJK symbols
  [0x3041, 0x33ff], // Hiragana, Katakana, Bopomofo, Hangul compat, Kanbun, CJK compat
  [0x3400, 0x4dbf], // CJK extension A
  [0x4e00, 0x9fff], // CJK unified ideographs
  [0xa000, 0xa4cf], // Yi
  [0xa960, 0xa97f], // Hangul Jamo extended A
  [0xac00, 0xd7a3], // Hangul syllables
  [0xf900, 0xfaff], // CJK compatibility ideographs
  [0xfe10, 0xfe19], // vertical forms
  [0xfe30, 0xfe6f], // CJK compatibility forms, small form variants
  [0xff00, 0xff60], // fullwidth forms
  [0xffe0, 0xffe6], // fullwidth signs
  [0x16fe0, 0x16fe4], // ideographic symbols
  [0x17000, 0x18cff], // Tangut
  [0x1b000, 0x1b2ff], // Kana supplement/extended, Nushu
  [0x1f200, 0x1f2ff], // enclosed ideographic supplement
  [0x20000, 0x2fffd], // CJK extensions B..F, compatibility supplement
  [0x30000, 0x3fffd], // CJK extension G..
];

function isWide(codePoint: number): boolean {
  if (codePoint < 0x1100) return false;
  let lo = 0;
  let hi = WIDE_RANGES.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [start, end] = WIDE_RANGES[mid];
    if (codePoint < start) hi = mid - 1;
    else if (codePoint > end) lo = mid + 1;
    else return true;
  }
  return false;
}

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\p{Cc}\u1160-\u11ff]$/u;
const EMOJI_PRESENTATION = /\p{Emoji_Presentation}/u;
const PICTOGRAPHIC = /\p{Extended_Pictographic}/u;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Display width in terminal columns of one grapheme cluster (a user-perceived
 * character such as "e\u0301", "👍🏽" or "🇫🇷"): 2 for East-Asian wide and
 * emoji, 0 for lone combining marks and control characters, 1 otherwise.
 *
 * @example
 * ```ts
 * import { graphemeWidth } from "@fastchat/client/ansi";
 * graphemeWidth("a"); // 1
 * graphemeWidth("漢"); // 2
 * graphemeWidth("👍"); // 2
 * graphemeWidth("e\u0301"); // 1
 * ```
 */
export function graphemeWidth(grapheme: string): number {
  if (grapheme.length === 1) {
    const c = grapheme.charCodeAt(0);
    if (c >= 0x20 && c < 0x7f) return 1;
  }
  if (EMOJI_PRESENTATION.test(grapheme)) return 2;
  if (grapheme.includes("\ufe0f") && PICTOGRAPHIC.test(grapheme)) return 2;
  for (const char of grapheme) {
    if (ZERO_WIDTH.test(char)) continue;
    return isWide(char.codePointAt(0)!) ? 2 : 1;
  }
  return 0;
}

const SEGMENTER = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * Splits text into grapheme clusters (what a cursor steps over).
 *
 * @example
 * ```ts
 * import { graphemes } from "@fastchat/client/ansi";
 * graphemes("ae\u0301👍🏽"); // ["a", "e\u0301", "👍🏽"]
 * ```
 */
export function graphemes(text: string): string[] {
  if (PRINTABLE_ASCII.test(text)) return text.split("");
  const out: string[] = [];
  for (const { segment } of SEGMENTER.segment(text)) out.push(segment);
  return out;
}

/**
 * Number of terminal columns `text` occupies on one line: escape sequences are
 * ignored, wide characters and emoji count 2, combining marks 0.
 *
 * @example
 * ```ts
 * import { visibleWidth } from "@fastchat/client/ansi";
 * visibleWidth("\x1b[32mok\x1b[39m"); // 2
 * visibleWidth("日本"); // 4
 * visibleWidth("café"); // 4
 * ```
 */
export function visibleWidth(text: string): number {
  const plain = stripAnsi(text);
  if (PRINTABLE_ASCII.test(plain)) return plain.length;
  let width = 0;
  for (const { segment } of SEGMENTER.segment(plain)) width += graphemeWidth(segment);
  return width;
}
