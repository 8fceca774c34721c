/**
 * Line reading for script mode, when stdin is not a terminal and the
 * `LineEditor` is not used. Re-exported by `@fastchat/client/line_editor`.
 *
 * @example
 * ```ts
 * import { readLines } from "@fastchat/client/line_editor";
 * const input = ReadableStream.from([new TextEncoder().encode("/login alice\r\n/quit")]);
 * for await (const line of readLines(input)) console.log(line); // "/login alice", "/quit"
 * ```
 * @module
 */

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
