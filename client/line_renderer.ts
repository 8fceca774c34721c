/**
 * Drawing of the `LineEditor`'s prompt and input line: the escape sequences
 * that draw them (wrapped over as many rows as the terminal needs), place
 * the cursor, and erase them again so that text can be printed above.
 *
 * @example
 * ```ts
 * import { LineRenderer } from "./line_renderer.ts";
 * const renderer = new LineRenderer(() => 80);
 * let out = renderer.draw({ prompt: "> ", text: "hello", cursor: 5 }); // "> hello"
 * out = renderer.clear() + "bob: hi\n" + renderer.draw({ prompt: "> ", text: "hello", cursor: 5 });
 * ```
 * @module
 */

import { graphemes, graphemeWidth, stripAnsi, visibleWidth } from "./ansi.ts";

/**
 * What {@link LineRenderer.draw} shows: the prompt (may contain ANSI colours
 * and newlines), the input text, and the cursor as a UTF-16 offset into the
 * text on a grapheme boundary.
 *
 * @example
 * ```ts
 * import type { LineView } from "./line_renderer.ts";
 * const password: LineView = { prompt: "password: ", text: "s3cret", cursor: 6, mask: "" };
 * ```
 */
export interface LineView {
  /** Shown before the text. */
  readonly prompt: string;
  /** The input being edited. */
  readonly text: string;
  /** Cursor offset into `text`. */
  readonly cursor: number;
  /** If set, shown once per character instead of the text (secret input; "" shows nothing). */
  readonly mask?: string;
}

interface Pos {
  row: number;
  col: number;
}

/**
 * Produces the output that draws and erases the input line on a terminal
 * `columns()` wide (default 80), and tracks the row of the terminal cursor
 * within the drawn rows so that it can get back to the first one. Output
 * assumes the terminal translates "\n" to "\r\n".
 *
 * @example
 * ```ts
 * import { LineRenderer } from "./line_renderer.ts";
 * const renderer = new LineRenderer(() => 10);
 * renderer.draw({ prompt: "> ", text: "abcdefghij", cursor: 0 });
 * renderer.cursorRow; // 0: "> abcdefgh" fills the first row, the cursor is after "> "
 * ```
 */
export class LineRenderer {
  readonly #columns: () => number;
  #cursorRow = 0;

  /**
   * Creates a renderer for a terminal `columns()` wide, asked at each draw.
   *
   * @example
   * ```ts
   * import { LineRenderer } from "./line_renderer.ts";
   * const renderer = new LineRenderer(() => Deno.consoleSize().columns);
   * ```
   */
  constructor(columns: () => number = () => 80) {
    this.#columns = columns;
  }

  /**
   * The row of the terminal cursor within the drawn prompt and input (0 = first row).
   *
   * @example
   * ```ts
   * import { LineRenderer } from "./line_renderer.ts";
   * const renderer = new LineRenderer(() => 5);
   * renderer.draw({ prompt: "> ", text: "abcdef", cursor: 6 });
   * renderer.cursorRow; // 1
   * ```
   */
  get cursorRow(): number {
    return this.#cursorRow;
  }

  /**
   * Records that the terminal cursor is at the start of a fresh row, as
   * after the screen was cleared or a finished line was left: the next
   * {@link LineRenderer.clear} does not move up.
   *
   * @example
   * ```ts
   * import { LineRenderer } from "./line_renderer.ts";
   * const renderer = new LineRenderer();
   * renderer.draw({ prompt: "> ", text: "hi", cursor: 2 });
   * let out = "\x1b[H\x1b[2J"; // clear the screen: the cursor is now at the top
   * renderer.reset();
   * out += renderer.draw({ prompt: "> ", text: "hi", cursor: 2 });
   * ```
   */
  reset(): void {
    this.#cursorRow = 0;
  }

  /**
   * Output that moves to the first row of the drawn prompt and input and
   * erases it and everything below.
   *
   * @example
   * ```ts
   * import { LineRenderer } from "./line_renderer.ts";
   * const renderer = new LineRenderer(() => 5);
   * renderer.draw({ prompt: "> ", text: "abcdef", cursor: 6 });
   * renderer.clear(); // "\x1b[1A\r\x1b[2K\x1b[J"
   * ```
   */
  clear(): string {
    const up = this.#cursorRow > 0 ? `\x1b[${this.#cursorRow}A` : "";
    this.#cursorRow = 0;
    return up + "\r\x1b[2K\x1b[J";
  }

  /**
   * Output that draws prompt and input from column 0 of the current row and
   * places the cursor. Wrapping is simulated cell by cell, so a wide
   * character that does not fit at a row end moves to the next row as the
   * terminal moves it.
   *
   * @example
   * ```ts
   * import { LineRenderer } from "./line_renderer.ts";
   * const renderer = new LineRenderer();
   * renderer.draw({ prompt: "> ", text: "helo", cursor: 3 }); // "> helo\r\x1b[5C"
   * ```
   */
  draw(view: LineView): string {
    const cols = Math.max(1, Math.floor(this.#columns()) || 80);
    let pos: Pos = { row: 0, col: 0 };
    const advance = (width: number): void => {
      if (pos.col + width > cols && pos.col > 0) pos = { row: pos.row + 1, col: 0 };
      pos = { row: pos.row, col: pos.col + width };
    };
    const normalize = (p: Pos): Pos => p.col >= cols ? { row: p.row + 1, col: 0 } : p;

    for (const g of graphemes(stripAnsi(view.prompt))) {
      if (g === "\n" || g === "\r\n") pos = { row: pos.row + 1, col: 0 };
      else advance(graphemeWidth(g));
    }

    const mask = view.mask;
    let text = "";
    let cursorPos: Pos | null = null;
    let offset = 0;
    for (const g of graphemes(view.text)) {
      const shown = mask ?? g;
      const width = mask === undefined ? graphemeWidth(g) : visibleWidth(mask);
      if (cursorPos === null && offset >= view.cursor) {
        cursorPos = normalize(
          pos.col + width > cols && pos.col > 0 ? { row: pos.row + 1, col: 0 } : pos,
        );
      }
      text += shown;
      advance(width);
      offset += g.length;
    }
    let out = view.prompt + text;
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
