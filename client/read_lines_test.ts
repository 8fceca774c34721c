import { expect } from "expect";
import { readLines } from "./read_lines.ts";

const encoder = new TextEncoder();

function streamOf(chunks: (string | number[])[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(
    chunks.map((c) => typeof c === "string" ? encoder.encode(c) : new Uint8Array(c)),
  );
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const l of lines) out.push(l);
  return out;
}

Deno.test("readLines splits lines across chunks and decodes split UTF-8", async () => {
  const bytes = [...encoder.encode("né\r\nsecond 😀\n\nlast")];
  // every possible split point, including inside "é" and inside the emoji
  for (let i = 0; i <= bytes.length; i++) {
    const lines = await collect(readLines(streamOf([bytes.slice(0, i), bytes.slice(i)])));
    expect(lines).toEqual(["né", "second 😀", "", "last"]);
  }
  // one byte per chunk
  expect(await collect(readLines(streamOf(bytes.map((b) => [b]))))).toEqual([
    "né",
    "second 😀",
    "",
    "last",
  ]);
});

Deno.test("readLines edge cases", async () => {
  expect(await collect(readLines(streamOf([])))).toEqual([]);
  expect(await collect(readLines(streamOf(["a\n"])))).toEqual(["a"]);
  expect(await collect(readLines(streamOf(["a\r", "\nb\r"])))).toEqual(["a", "b"]);
  expect(await collect(readLines(streamOf(["\n\n"])))).toEqual(["", ""]);
  // Stopping early leaves the stream usable.
  const stream = streamOf(["one\ntwo\n"]);
  for await (const l of readLines(stream)) {
    expect(l).toBe("one");
    break;
  }
  expect(stream.locked).toBe(false);
  // Async iterables work too.
  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield encoder.encode("x\ny");
  }
  expect(await collect(readLines(chunks()))).toEqual(["x", "y"]);
});
