import { Buffer } from "node:buffer";
import { expect } from "expect";
import {
  bufferSource,
  concatBytes,
  constantTimeEqual,
  fromBase64Url,
  plainBytes,
  randomBytes,
  randomId,
  toBase64Url,
  toHex,
  utf8Decode,
  utf8DecodeStrict,
  utf8Encode,
} from "./bytes.ts";
import { codeOf } from "@fastchat/testing/assert_code";

Deno.test("utf8 round trip, lenient vs strict decoding", () => {
  const s = "héllo 👋 \u0000";
  expect(utf8Decode(utf8Encode(s))).toBe(s);
  expect(utf8DecodeStrict(utf8Encode(s))).toBe(s);
  expect(utf8Decode(new Uint8Array([0x61, 0xff]))).toBe("a\uFFFD");
  expect(codeOf(() => utf8DecodeStrict(new Uint8Array([0x61, 0xff])))).toBe("BAD_REQUEST");
  expect(utf8DecodeStrict(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]))).toBe("\uFEFFa");
});

Deno.test("base64url round trips every length and matches known vectors", () => {
  expect(toBase64Url(new Uint8Array([0xfb, 0xff]))).toBe("-_8");
  expect(toBase64Url(utf8Encode("hi"))).toBe("aGk");
  expect(toBase64Url(new Uint8Array(0))).toBe("");
  for (let n = 0; n < 40; n++) {
    const b = randomBytes(n);
    const s = toBase64Url(b);
    expect(s).toMatch(/^[A-Za-z0-9_-]*$/);
    const back = fromBase64Url(s);
    expect(back.constructor).toBe(Uint8Array);
    expect(back).toEqual(b);
  }
});

Deno.test("fromBase64Url rejects invalid and non-canonical input", () => {
  for (const bad of ["a+b/", "aGk=", "a", "aGk!", " aGk", "aGl", "-_9"]) {
    expect(codeOf(() => fromBase64Url(bad))).toBe("BAD_REQUEST");
  }
});

Deno.test("toHex and concatBytes", () => {
  expect(toHex(new Uint8Array([0, 1, 255]))).toBe("0001ff");
  const big = new Uint8Array([9, 9, 1, 2, 9]);
  expect(toHex(big.subarray(2, 4))).toBe("0102");
  expect(concatBytes(new Uint8Array([1]), new Uint8Array(0), new Uint8Array([2, 3]))).toEqual(
    new Uint8Array([1, 2, 3]),
  );
  expect(concatBytes()).toEqual(new Uint8Array(0));
});

Deno.test("constantTimeEqual", () => {
  expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
  expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
  expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3]))).toBe(false);
  expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
});

Deno.test("randomBytes sizes and uniqueness, including > 65536 bytes", () => {
  expect(randomBytes(0).length).toBe(0);
  expect(randomBytes(16)).not.toEqual(randomBytes(16));
  const big = randomBytes(200_000);
  expect(big.length).toBe(200_000);
  expect(big.subarray(190_000).some((x) => x !== 0)).toBe(true);
  expect(codeOf(() => randomBytes(-1))).toBe("BAD_REQUEST");
});

Deno.test("randomBytes: small requests from the pool are distinct, independent copies", () => {
  // Enough 12-byte requests to refill the 4 KiB pool several times.
  const seen = new Set<string>();
  const all: Uint8Array[] = [];
  for (let i = 0; i < 2000; i++) {
    const b = randomBytes(12);
    expect(b.length).toBe(12);
    expect(b.byteOffset).toBe(0);
    expect(b.buffer.byteLength).toBe(12); // a copy, not a view of the pool
    seen.add(toBase64Url(b));
    all.push(b);
  }
  expect(seen.size).toBe(2000);
  const first = toBase64Url(all[0]);
  for (let i = 0; i < 1000; i++) randomBytes(64);
  expect(toBase64Url(all[0])).toBe(first);
});

Deno.test("bufferSource keeps ArrayBuffer views and copies shared ones", () => {
  const b = new Uint8Array([1, 2, 3]);
  expect(bufferSource(b)).toBe(b);
  const shared = new Uint8Array(new SharedArrayBuffer(3));
  shared.set([4, 5, 6]);
  const copy = bufferSource(shared);
  expect(copy.buffer).toBeInstanceOf(ArrayBuffer);
  expect(copy).toEqual(new Uint8Array([4, 5, 6]));
});

Deno.test("plainBytes: a Uint8Array view of a Buffer's bytes, no copy", () => {
  const pool = Buffer.from([9, 1, 2, 3, 9]);
  const buf = pool.subarray(1, 4);
  const plain = plainBytes(buf);
  expect(Object.getPrototypeOf(plain)).toBe(Uint8Array.prototype);
  expect(plain).toEqual(new Uint8Array([1, 2, 3]));
  buf[0] = 7; // the same memory
  expect(plain[0]).toBe(7);
  expect(plain.byteOffset).toBe(buf.byteOffset);
});

Deno.test("randomId: base64url of n fresh random bytes, never the same twice", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) { // several refills of the pool
    const id = randomId(16);
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(fromBase64Url(id).length).toBe(16);
    seen.add(id);
  }
  expect(seen.size).toBe(2000);
  expect(randomId(100).length).toBe(134); // beyond the pool: still random bytes
});
