import { expect } from "expect";
import { seededRandom } from "@fastchat/testing/frame_fixtures";
import { FastChatError } from "./errors.ts";
import { encodeFrame, FrameDecoder } from "./frame.ts";

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Deterministic PRNG so failures reproduce. */
const rng = seededRandom;

Deno.test("frame: one frame, several in one chunk, and empty payloads", () => {
  const dec = new FrameDecoder(100);
  const a = encodeFrame(new Uint8Array([1, 2, 3]));
  const b = encodeFrame(new Uint8Array(0));
  const c = encodeFrame(new Uint8Array([9]));
  const frames = dec.push(concat([a, b, c]));
  expect(frames.map((f) => [...f])).toEqual([[1, 2, 3], [], [9]]);
  expect(dec.buffered).toBe(0);
});

Deno.test("frame: split byte by byte decodes identically", () => {
  const payloads = [new Uint8Array([5, 6, 7, 8]), new Uint8Array(300).fill(4), new Uint8Array([1])];
  const wire = concat(payloads.map(encodeFrame));
  const dec = new FrameDecoder(1000);
  const got: Uint8Array[] = [];
  for (let i = 0; i < wire.length; i++) got.push(...dec.push(wire.subarray(i, i + 1)));
  expect(got.map((f) => [...f])).toEqual(payloads.map((p) => [...p]));
});

Deno.test("frame: returned payloads are copies, not views of the read buffer", () => {
  const dec = new FrameDecoder(100);
  const chunk = encodeFrame(new Uint8Array([1, 2, 3]));
  const [f] = dec.push(chunk);
  chunk.fill(0);
  expect([...f]).toEqual([1, 2, 3]);
});

Deno.test("frame: oversized frame is rejected at its header, before buffering", () => {
  const dec = new FrameDecoder(10);
  const header = new Uint8Array([0, 0, 0, 11]);
  let err: unknown;
  try {
    dec.push(header);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FastChatError);
  expect((err as FastChatError).code).toBe("FRAME_TOO_LARGE");
  // 4 GiB length claim is rejected too, without allocation.
  expect(() => new FrameDecoder(10).push(new Uint8Array([255, 255, 255, 255]))).toThrow(
    /exceeds the limit/,
  );
});

Deno.test("frame: raising maxFrame after login admits larger frames", () => {
  const dec = new FrameDecoder(4);
  dec.maxFrame = 64;
  expect(dec.push(encodeFrame(new Uint8Array(64)))[0].length).toBe(64);
});

Deno.test("frame fuzz: random frames split at random points reassemble exactly", () => {
  const rand = rng(42);
  for (let round = 0; round < 200; round++) {
    const payloads: Uint8Array[] = [];
    const n = 1 + Math.floor(rand() * 20);
    for (let i = 0; i < n; i++) {
      const p = new Uint8Array(Math.floor(rand() * 2000));
      for (let j = 0; j < p.length; j++) p[j] = Math.floor(rand() * 256);
      payloads.push(p);
    }
    const wire = concat(payloads.map(encodeFrame));
    const dec = new FrameDecoder(4096);
    const got: Uint8Array[] = [];
    let off = 0;
    while (off < wire.length) {
      const len = Math.floor(rand() * 3000);
      got.push(...dec.push(wire.subarray(off, off + len)));
      off += len;
    }
    expect(got.length).toBe(payloads.length);
    for (let i = 0; i < n; i++) expect(got[i]).toEqual(payloads[i]);
    expect(dec.buffered).toBe(0);
  }
});

Deno.test("frame fuzz: garbage only ever raises FRAME_TOO_LARGE and buffers at most one frame", () => {
  const rand = rng(7);
  const max = 1024;
  for (let round = 0; round < 500; round++) {
    const dec = new FrameDecoder(max);
    const junk = new Uint8Array(Math.floor(rand() * 5000));
    for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(rand() * 256);
    try {
      let off = 0;
      while (off < junk.length) {
        const len = 1 + Math.floor(rand() * 700);
        dec.push(junk.subarray(off, off + len));
        off += len;
        expect(dec.buffered).toBeLessThanOrEqual(max + 4);
      }
    } catch (e) {
      expect(e).toBeInstanceOf(FastChatError);
      expect((e as FastChatError).code).toBe("FRAME_TOO_LARGE");
    }
  }
});

Deno.test("frame: the buffer a split frame needed is released once it completes", () => {
  const dec = new FrameDecoder(64 * 1024);
  const big = encodeFrame(new Uint8Array(5000).fill(3));
  expect(dec.push(big.subarray(0, 2048))).toEqual([]);
  expect(dec.reserved).toBeGreaterThanOrEqual(2048);
  const frames = dec.push(big.subarray(2048));
  expect(frames.map((f) => f.length)).toEqual([5000]);
  expect(dec.reserved).toBe(0);
  // A later split frame still decodes (the buffer is allocated again).
  const small = encodeFrame(new Uint8Array([1, 2, 3]));
  expect(dec.push(small.subarray(0, 5))).toEqual([]);
  expect(dec.push(small.subarray(5)).map((f) => [...f])).toEqual([[1, 2, 3]]);
  expect(dec.reserved).toBe(0);
});

Deno.test("frame: the frames of one push share one copy, apart from the chunk", () => {
  const dec = new FrameDecoder(100);
  const chunk = concat([encodeFrame(new Uint8Array([1])), encodeFrame(new Uint8Array([2, 3]))]);
  const tail = encodeFrame(new Uint8Array([4, 5, 6]));
  const frames = dec.push(concat([chunk, tail.subarray(0, 5)]));
  expect(frames.length).toBe(2);
  expect(frames[0].buffer).toBe(frames[1].buffer);
  expect(frames[0].buffer).not.toBe(chunk.buffer);
  // the split third frame comes out of the decoder's own buffer, copied as well
  const [third] = dec.push(tail.subarray(5));
  expect([...third]).toEqual([4, 5, 6]);
  expect([...frames[0], ...frames[1]]).toEqual([1, 2, 3]);
});
