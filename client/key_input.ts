/**
 * The typed input of the `LineEditor`: raw key bytes pulled from a stream on
 * demand, decoded as UTF-8 (characters split across chunks included) and
 * queued as text until keys are taken from it. What is typed while no read
 * is active stays queued (type-ahead).
 *
 * @example
 * ```ts
 * import { KeyInput } from "./key_input.ts";
 * const input = new KeyInput(ReadableStream.from([new TextEncoder().encode("hi\r")]));
 * while (!input.ended) await input.read();
 * console.log(JSON.stringify(input.pending)); // "hi\r"
 * ```
 * @module
 */

/**
 * Where key bytes come from: a terminal's stdin in raw mode or any stream of chunks.
 *
 * @example
 * ```ts
 * import type { ByteInput } from "./key_input.ts";
 * const keys: ByteInput = Deno.stdin.readable;
 * ```
 */
export type ByteInput = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/**
 * Decoded text read from a {@link ByteInput} and not yet consumed.
 *
 * @example
 * ```ts
 * import { KeyInput } from "./key_input.ts";
 * const input = new KeyInput(ReadableStream.from([new TextEncoder().encode("ab")]));
 * await input.read();
 * input.consume(1);
 * input.pending; // "b"
 * ```
 */
export class KeyInput {
  readonly #next: () => Promise<IteratorResult<Uint8Array>>;
  readonly #cancel: () => void;
  readonly #decoder = new TextDecoder();
  #pending = "";
  #ended = false;

  /**
   * Takes over `input`; nothing is read before {@link KeyInput.read}.
   *
   * @example
   * ```ts
   * import { KeyInput } from "./key_input.ts";
   * async function* chunks() {
   *   yield new TextEncoder().encode("x");
   * }
   * const input = new KeyInput(chunks());
   * ```
   */
  constructor(input: ByteInput) {
    if (input instanceof ReadableStream) {
      const reader = input.getReader();
      this.#next = async () => {
        const r = await reader.read();
        return r.done ? { done: true, value: undefined } : { done: false, value: r.value };
      };
      this.#cancel = () => {
        // Input we stop reading: a cancel that fails means the stream had
        // errored already, which read() reported as its end.
        reader.cancel().catch(() => {});
      };
    } else {
      const iterator = input[Symbol.asyncIterator]();
      this.#next = () => iterator.next();
      this.#cancel = () => {
        // As above: the iterator's failure was already seen as the end of input.
        iterator.return?.()?.catch(() => {});
      };
    }
  }

  /**
   * The text read and not consumed yet.
   *
   * @example
   * ```ts
   * import { KeyInput } from "./key_input.ts";
   * new KeyInput(ReadableStream.from<Uint8Array>([])).pending; // ""
   * ```
   */
  get pending(): string {
    return this.#pending;
  }

  /**
   * Whether the input has ended (or failed); nothing more will be queued.
   *
   * @example
   * ```ts
   * import { KeyInput } from "./key_input.ts";
   * const input = new KeyInput(ReadableStream.from<Uint8Array>([]));
   * await input.read();
   * input.ended; // true
   * ```
   */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Waits for the next chunk and queues its text. At the end of the input,
   * or if reading fails, sets {@link KeyInput.ended} and queues what the
   * decoder still held (an incomplete character decodes to U+FFFD).
   *
   * @example
   * ```ts
   * import { KeyInput } from "./key_input.ts";
   * const input = new KeyInput(ReadableStream.from([new Uint8Array([0xc3]), new Uint8Array([0xa9])]));
   * await input.read(); // pending "": half a character
   * await input.read(); // pending "é"
   * ```
   */
  async read(): Promise<void> {
    let result: IteratorResult<Uint8Array>;
    try {
      result = await this.#next();
    } catch {
      // Documented above: a failing input (a closed terminal, a broken pipe)
      // ends it, as end of file would; the caller sees `ended`.
      result = { done: true, value: undefined };
    }
    if (result.done) {
      this.#ended = true;
      this.#pending += this.#decoder.decode();
    } else {
      this.#pending += this.#decoder.decode(result.value, { stream: true });
    }
  }

  /**
   * Removes the first `length` UTF-16 code units of the pending text.
   *
   * @example
   * ```ts
   * import { KeyInput } from "./key_input.ts";
   * const input = new KeyInput(ReadableStream.from([new TextEncoder().encode("\x1b[Dx")]));
   * await input.read();
   * input.consume(3); // pending "x"
   * ```
   */
  consume(length: number): void {
    this.#pending = this.#pending.slice(length);
  }

  /**
   * Drops all pending text.
   *
   * @example
   * ```ts
   * import { KeyInput } from "./key_input.ts";
   * const input = new KeyInput(ReadableStream.from([new TextEncoder().encode("typed ahead")]));
   * await input.read();
   * input.clear(); // pending ""
   * ```
   */
  clear(): void {
    this.#pending = "";
  }

  /**
   * Cancels the underlying input (a pending read of stdin then no longer
   * keeps the process alive); errors while cancelling are ignored.
   *
   * @example
   * ```ts
   * import { KeyInput } from "./key_input.ts";
   * const input = new KeyInput(Deno.stdin.readable);
   * input.cancel();
   * ```
   */
  cancel(): void {
    this.#cancel();
  }
}
