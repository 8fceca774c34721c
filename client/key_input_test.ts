import { expect } from "expect";
import { KeyInput } from "./key_input.ts";

const encoder = new TextEncoder();

Deno.test("KeyInput queues decoded text chunk by chunk until the end", async () => {
  const input = new KeyInput(ReadableStream.from([encoder.encode("ab"), encoder.encode("c\r")]));
  expect([input.pending, input.ended]).toEqual(["", false]); // nothing read before read()
  await input.read();
  expect([input.pending, input.ended]).toEqual(["ab", false]);
  await input.read();
  expect(input.pending).toBe("abc\r");
  await input.read();
  expect([input.pending, input.ended]).toEqual(["abc\r", true]);
});

Deno.test("UTF-8 split across chunks; an incomplete character at the end is U+FFFD", async () => {
  const grin = [...encoder.encode("😀")];
  const input = new KeyInput(
    ReadableStream.from(
      [[0xc3], [0xa9, grin[0]], grin.slice(1), [0xe6]].map((c) => new Uint8Array(c)),
    ),
  );
  await input.read();
  expect(input.pending).toBe("");
  await input.read();
  expect(input.pending).toBe("é");
  await input.read();
  expect(input.pending).toBe("é😀");
  await input.read();
  expect(input.pending).toBe("é😀");
  await input.read();
  expect([input.pending, input.ended]).toEqual(["é😀\ufffd", true]);
});

Deno.test("consume and clear take text from the front of the queue", async () => {
  const input = new KeyInput(ReadableStream.from([encoder.encode("\x1b[Dxyz")]));
  await input.read();
  input.consume(3);
  expect(input.pending).toBe("xyz");
  input.consume(1);
  expect(input.pending).toBe("yz");
  input.clear();
  expect(input.pending).toBe("");
});

Deno.test("an async iterable works as input", async () => {
  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield encoder.encode("one");
    yield encoder.encode("two");
  }
  const input = new KeyInput(chunks());
  while (!input.ended) await input.read();
  expect(input.pending).toBe("onetwo");
});

Deno.test("a failing input counts as ended", async () => {
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.error(new Error("gone"));
    },
  });
  const input = new KeyInput(stream);
  await input.read();
  expect([input.pending, input.ended]).toEqual(["", true]);

  async function* failing(): AsyncGenerator<Uint8Array> {
    yield encoder.encode("a");
    throw new Error("gone");
  }
  const iterated = new KeyInput(failing());
  await iterated.read();
  await iterated.read();
  expect([iterated.pending, iterated.ended]).toEqual(["a", true]);
});

Deno.test("cancel cancels a stream and ends a pending read", async () => {
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    cancel() {
      cancelled = true;
    },
  });
  const input = new KeyInput(stream);
  const read = input.read();
  input.cancel();
  await read;
  expect(cancelled).toBe(true);
  expect(input.ended).toBe(true);
});

Deno.test("cancel returns an async iterator", async () => {
  let finished = false;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      yield encoder.encode("a");
      yield encoder.encode("b");
    } finally {
      finished = true;
    }
  }
  const input = new KeyInput(chunks());
  await input.read();
  input.cancel();
  await Promise.resolve();
  expect(finished).toBe(true);
  await input.read();
  expect([input.pending, input.ended]).toEqual(["a", true]);
});
