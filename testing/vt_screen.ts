/**
 * A tiny in-memory terminal for tests that replay what a line editor wrote:
 * enough VT100 to check what the user would see.
 *
 * @example
 * ```ts
 * import { Screen } from "@fastchat/testing/vt_screen";
 * const screen = new Screen(4);
 * screen.feed("abcdef\r\n> ");
 * console.log(screen.lines()); // ["abcd", "ef", ">"]
 * ```
 * @module
 */
import { graphemes, graphemeWidth } from "@fastchat/client/ansi";

/**
 * A tiny terminal: enough VT100 to replay the editor's output (printable text
 * with auto-wrap and the pending-wrap column, CR, LF as CR+LF, cursor up /
 * right, erase line / below / screen, home, SGR ignored).
 *
 * @example
 * ```ts
 * import { Screen } from "@fastchat/testing/vt_screen";
 * const screen = new Screen(80);
 * screen.feed("hello\x1b[2K\rbye");
 * console.log(screen.lines()); // ["bye"]
 * ```
 */
export class Screen {
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
