/**
 * The submitted-line history of the `LineEditor` (Up/Down, Ctrl-P/Ctrl-N):
 * {@link LineHistory} keeps the lines, a {@link HistoryBrowser} walks them
 * during one read and remembers the line being typed (the draft) while an
 * older line is shown.
 *
 * @example
 * ```ts
 * import { LineHistory } from "./line_history.ts";
 * const history = new LineHistory();
 * history.add("first");
 * history.add("second");
 * const browser = history.browse();
 * browser.move(-1, "draft"); // "second"
 * browser.move(-1, "second"); // "first"
 * browser.move(-1, "first"); // null: nothing older
 * browser.move(+1, "first"); // "second"
 * browser.move(+1, "second"); // "draft"
 * ```
 * @module
 */

/**
 * Submitted lines, oldest first, at most `maxSize` of them (the oldest is
 * dropped). Empty lines and a repeat of the newest line are not added.
 *
 * @example
 * ```ts
 * import { LineHistory } from "./line_history.ts";
 * const history = new LineHistory(2);
 * for (const line of ["a", "b", "b", "", "c"]) history.add(line);
 * console.log(history.length, history.at(0), history.at(1)); // 2 "b" "c"
 * ```
 */
export class LineHistory {
  readonly #lines: string[] = [];
  readonly #maxSize: number;

  /**
   * Creates an empty history keeping at most `maxSize` lines (default 500).
   *
   * @example
   * ```ts
   * import { LineHistory } from "./line_history.ts";
   * const history = new LineHistory(100);
   * ```
   */
  constructor(maxSize = 500) {
    this.#maxSize = maxSize;
  }

  /**
   * How many lines are kept.
   *
   * @example
   * ```ts
   * import { LineHistory } from "./line_history.ts";
   * new LineHistory().length; // 0
   * ```
   */
  get length(): number {
    return this.#lines.length;
  }

  /**
   * The line at `index` (0 = oldest), or `undefined` outside the history.
   *
   * @example
   * ```ts
   * import { LineHistory } from "./line_history.ts";
   * const history = new LineHistory();
   * history.add("hello");
   * history.at(0); // "hello"
   * ```
   */
  at(index: number): string | undefined {
    return this.#lines[index];
  }

  /**
   * Appends a submitted line, unless it is empty or equal to the newest
   * line; drops the oldest line when the history is then too long.
   *
   * @example
   * ```ts
   * import { LineHistory } from "./line_history.ts";
   * const history = new LineHistory();
   * history.add("/join #general");
   * ```
   */
  add(line: string): void {
    if (line === "") return;
    if (this.#lines.at(-1) !== line) this.#lines.push(line);
    if (this.#lines.length > this.#maxSize) this.#lines.shift();
  }

  /**
   * Starts browsing at the draft position, after the newest line.
   *
   * @example
   * ```ts
   * import { LineHistory } from "./line_history.ts";
   * const history = new LineHistory();
   * history.add("hello");
   * history.browse().move(-1, ""); // "hello"
   * ```
   */
  browse(): HistoryBrowser {
    return new HistoryBrowser(this);
  }
}

/**
 * A position in a {@link LineHistory} during one read: from the draft (after
 * the newest line) back to the oldest line and forward again. The draft is
 * the text that was on the input line when browsing left it.
 *
 * @example
 * ```ts
 * import { HistoryBrowser, LineHistory } from "./line_history.ts";
 * const history = new LineHistory();
 * history.add("hello");
 * const browser = new HistoryBrowser(history);
 * browser.move(-1, "typed"); // "hello"
 * browser.move(+1, "hello"); // "typed"
 * ```
 */
export class HistoryBrowser {
  readonly #history: LineHistory;
  #index: number;
  #draft = "";

  /**
   * Starts at the draft position of `history`.
   *
   * @example
   * ```ts
   * import { HistoryBrowser, LineHistory } from "./line_history.ts";
   * const browser = new HistoryBrowser(new LineHistory());
   * ```
   */
  constructor(history: LineHistory) {
    this.#history = history;
    this.#index = history.length;
  }

  /**
   * Moves `delta` lines (-1: older, +1: newer) and returns the line to show
   * there, or `null` (no move) if that is before the oldest line or past the
   * draft. `current` is the text on the input line now; it is kept as the
   * draft when the move leaves the draft position.
   *
   * @example
   * ```ts
   * import { LineHistory } from "./line_history.ts";
   * const browser = new LineHistory().browse();
   * browser.move(-1, "abc"); // null: the history is empty
   * ```
   */
  move(delta: number, current: string): string | null {
    const length = this.#history.length;
    const index = this.#index + delta;
    if (index < 0 || index > length) return null;
    if (this.#index === length) this.#draft = current;
    this.#index = index;
    return index === length ? this.#draft : this.#history.at(index)!;
  }
}
