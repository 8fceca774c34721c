/**
 * The text on the input line of the `LineEditor` and the cursor in it,
 * with the editing operations its keys trigger: movement by character
 * (grapheme) and by word, deletion, and kill/yank. Pure state, no terminal:
 * keys are decoded by `decodeKey` and the line is drawn by `LineRenderer`.
 *
 * @example
 * ```ts
 * import { EditBuffer } from "./edit_buffer.ts";
 * const buffer = new EditBuffer();
 * buffer.insert("hello world");
 * buffer.apply("kill-word-left"); // text "hello ", "world" killed
 * buffer.apply("move-start");
 * buffer.apply("yank");
 * console.log(buffer.text); // "worldhello "
 * ```
 * @module
 */

import { graphemes } from "./ansi.ts";

/** Letters, digits and "_": what Alt-B/F/D, Alt-Backspace and Ctrl+arrows treat as a word. */
const WORD_CHAR = /[\p{L}\p{N}_]/u;
/** Anything but white space: what Ctrl-W treats as a word. */
const NON_SPACE = /\S/u;

/**
 * An editing operation of {@link EditBuffer.apply}. "Left" is towards the
 * start of the line. Kill commands remember the removed text for "yank";
 * "delete-left"/"delete-right" (Backspace/Delete) do not. "kill-word-left"
 * and word movement use letters, digits and "_" as word characters;
 * "kill-space-word-left" (Ctrl-W) kills back to white space.
 *
 * @example
 * ```ts
 * import type { EditCommand } from "./edit_buffer.ts";
 * const home: EditCommand = "move-start";
 * ```
 */
export type EditCommand =
  | "move-start"
  | "move-end"
  | "move-left"
  | "move-right"
  | "move-word-left"
  | "move-word-right"
  | "delete-left"
  | "delete-right"
  | "kill-to-start"
  | "kill-to-end"
  | "kill-word-left"
  | "kill-word-right"
  | "kill-space-word-left"
  | "yank";

/**
 * A line of text with a cursor that always sits on a grapheme boundary (a
 * UTF-16 offset into {@link EditBuffer.text}), so one step moves over or
 * deletes a whole user-perceived character ("e\u0301", "👍🏽"). The killed
 * text survives {@link EditBuffer.set}, so a kill can be yanked into a later
 * line.
 *
 * @example
 * ```ts
 * import { EditBuffer } from "./edit_buffer.ts";
 * const buffer = new EditBuffer();
 * buffer.insert("a😀b");
 * buffer.apply("move-left");
 * buffer.apply("delete-left"); // removes the whole emoji
 * console.log(buffer.text, buffer.cursor); // "ab" 1
 * ```
 */
export class EditBuffer {
  #text = "";
  #cursor = 0;
  #killed = "";

  /**
   * The text being edited.
   *
   * @example
   * ```ts
   * import { EditBuffer } from "./edit_buffer.ts";
   * const buffer = new EditBuffer();
   * buffer.insert("hi");
   * buffer.text; // "hi"
   * ```
   */
  get text(): string {
    return this.#text;
  }

  /**
   * The cursor: a UTF-16 offset into {@link EditBuffer.text}, 0 before the first character.
   *
   * @example
   * ```ts
   * import { EditBuffer } from "./edit_buffer.ts";
   * const buffer = new EditBuffer();
   * buffer.insert("hi");
   * buffer.apply("move-start");
   * buffer.cursor; // 0
   * ```
   */
  get cursor(): number {
    return this.#cursor;
  }

  /**
   * The text removed by the last kill command, inserted again by "yank" ("" before any kill).
   *
   * @example
   * ```ts
   * import { EditBuffer } from "./edit_buffer.ts";
   * const buffer = new EditBuffer();
   * buffer.insert("one two");
   * buffer.apply("kill-space-word-left");
   * buffer.killed; // "two"
   * ```
   */
  get killed(): string {
    return this.#killed;
  }

  /**
   * Replaces the text and puts the cursor at `cursor` (default: the end),
   * which must be a grapheme boundary. The killed text is kept.
   *
   * @example
   * ```ts
   * import { EditBuffer } from "./edit_buffer.ts";
   * const buffer = new EditBuffer();
   * buffer.set("recalled line"); // cursor at the end
   * buffer.set("", 0); // empty again
   * ```
   */
  set(text: string, cursor: number = text.length): void {
    this.#text = text;
    this.#cursor = cursor;
  }

  /**
   * Inserts `text` at the cursor and moves the cursor after it (to the next
   * grapheme boundary if the insert joined graphemes, as a combining mark does).
   *
   * @example
   * ```ts
   * import { EditBuffer } from "./edit_buffer.ts";
   * const buffer = new EditBuffer();
   * buffer.insert("hllo");
   * buffer.set(buffer.text, 1);
   * buffer.insert("e");
   * buffer.text; // "hello"
   * ```
   */
  insert(text: string): void {
    this.#text = this.#text.slice(0, this.#cursor) + text + this.#text.slice(this.#cursor);
    this.#cursor = this.#snap(this.#cursor + text.length);
  }

  /**
   * Performs an editing operation; one that cannot apply (moving past an
   * end, deleting nothing, yanking before any kill) changes nothing.
   *
   * @example
   * ```ts
   * import { EditBuffer } from "./edit_buffer.ts";
   * const buffer = new EditBuffer();
   * buffer.insert("foo bar");
   * buffer.apply("move-word-left");
   * buffer.apply("kill-to-end");
   * buffer.text; // "foo "
   * ```
   */
  apply(command: EditCommand): void {
    switch (command) {
      case "move-start":
        this.#cursor = 0;
        return;
      case "move-end":
        this.#cursor = this.#text.length;
        return;
      case "move-left":
        this.#cursor = this.#prevBoundary();
        return;
      case "move-right":
        this.#cursor = this.#nextBoundary();
        return;
      case "move-word-left":
        this.#cursor = this.#wordStart(WORD_CHAR);
        return;
      case "move-word-right":
        this.#cursor = this.#wordEnd();
        return;
      case "delete-left":
        return this.#delete(this.#prevBoundary(), this.#cursor, false);
      case "delete-right":
        return this.#delete(this.#cursor, this.#nextBoundary(), false);
      case "kill-to-start":
        return this.#delete(0, this.#cursor, true);
      case "kill-to-end":
        return this.#delete(this.#cursor, this.#text.length, true);
      case "kill-word-left":
        return this.#delete(this.#wordStart(WORD_CHAR), this.#cursor, true);
      case "kill-word-right":
        return this.#delete(this.#cursor, this.#wordEnd(), true);
      case "kill-space-word-left":
        return this.#delete(this.#wordStart(NON_SPACE), this.#cursor, true);
      case "yank":
        if (this.#killed) this.insert(this.#killed);
        return;
    }
  }

  #delete(from: number, to: number, kill: boolean): void {
    if (to <= from) return;
    if (kill) this.#killed = this.#text.slice(from, to);
    this.#text = this.#text.slice(0, from) + this.#text.slice(to);
    this.#cursor = this.#snap(from);
  }

  /** Grapheme boundaries (UTF-16 offsets) of the text, from 0 to its length. */
  #boundaries(): number[] {
    const out = [0];
    let at = 0;
    for (const g of graphemes(this.#text)) out.push(at += g.length);
    return out;
  }

  /** Moves `cursor` forward to the nearest grapheme boundary. */
  #snap(cursor: number): number {
    for (const b of this.#boundaries()) if (b >= cursor) return b;
    return this.#text.length;
  }

  #prevBoundary(): number {
    let prev = 0;
    for (const b of this.#boundaries()) {
      if (b >= this.#cursor) break;
      prev = b;
    }
    return prev;
  }

  #nextBoundary(): number {
    for (const b of this.#boundaries()) if (b > this.#cursor) return b;
    return this.#text.length;
  }

  /** Start of the word before the cursor: skip non-word chars, then word chars. */
  #wordStart(wordChar: RegExp): number {
    const chars = [...this.#text.slice(0, this.#cursor)];
    let i = chars.length;
    while (i > 0 && !wordChar.test(chars[i - 1])) i--;
    while (i > 0 && wordChar.test(chars[i - 1])) i--;
    return this.#snap(chars.slice(0, i).join("").length);
  }

  /** End of the word after the cursor. */
  #wordEnd(): number {
    const rest = [...this.#text.slice(this.#cursor)];
    let i = 0;
    while (i < rest.length && !WORD_CHAR.test(rest[i])) i++;
    while (i < rest.length && WORD_CHAR.test(rest[i])) i++;
    return this.#snap(this.#cursor + rest.slice(0, i).join("").length);
  }
}
