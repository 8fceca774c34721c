/**
 * Byte helpers shared by the crypto modules: UTF-8, base64url, hex,
 * concatenation, constant-time comparison and secure random bytes.
 *
 * Every function returns a plain `Uint8Array` (never a Node `Buffer`, whose
 * `slice` aliases memory) so callers can treat results as owned copies;
 * {@link plainBytes} is the one view, for bytes the caller already owns.
 *
 * @example
 * ```ts
 * import { fromBase64Url, toBase64Url, utf8Encode } from "@fastchat/lib/crypto/bytes";
 * const s = toBase64Url(utf8Encode("hi")); // "aGk"
 * fromBase64Url(s); // bytes of "hi"
 * ```
 * @module
 */

import { Buffer } from "node:buffer";
import { timingSafeEqual } from "node:crypto";
import { ByteSlab } from "../byte_slab.ts";
import { FastChatError } from "../errors.ts";

const encoder = new TextEncoder();
const lenientDecoder = new TextDecoder("utf-8");
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const BASE64URL_RE = /^[A-Za-z0-9_-]*$/;

function view(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Encodes a string as UTF-8.
 *
 * @example
 * ```ts
 * utf8Encode("é"); // Uint8Array [0xc3, 0xa9]
 * ```
 */
export function utf8Encode(s: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(s);
}

/**
 * Decodes UTF-8 leniently (invalid sequences become U+FFFD). Use
 * {@link utf8DecodeStrict} for data whose integrity matters.
 *
 * @example
 * ```ts
 * utf8Decode(new Uint8Array([0x68, 0x69])); // "hi"
 * ```
 */
export function utf8Decode(b: Uint8Array): string {
  return lenientDecoder.decode(b);
}

/**
 * Decodes UTF-8 strictly; throws `FastChatError("BAD_REQUEST")` on invalid
 * sequences. A leading BOM is preserved, not stripped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(utf8DecodeStrict(new Uint8Array([0x68, 0x69])), "hi");
 * assert.throws(() => utf8DecodeStrict(new Uint8Array([0xff])), { code: "BAD_REQUEST" });
 * ```
 */
export function utf8DecodeStrict(b: Uint8Array): string {
  try {
    return strictDecoder.decode(b);
  } catch (e) {
    throw new FastChatError("BAD_REQUEST", "invalid UTF-8", undefined, { cause: e });
  }
}

/**
 * Encodes bytes as unpadded base64url (RFC 4648 §5).
 *
 * @example
 * ```ts
 * toBase64Url(new Uint8Array([0xfb, 0xff])); // "-_8"
 * ```
 */
export function toBase64Url(b: Uint8Array): string {
  return view(b).toString("base64url");
}

/** Requests up to this size are served from a pool refilled 4 KiB at a time. */
const POOLED_MAX = 64;
const pool = new Uint8Array(4096);
let poolAt = pool.length;

/**
 * `n` (≤ {@link POOLED_MAX}) random bytes copied out of a pool of CSPRNG
 * output: one `getRandomValues` call serves hundreds of IVs and message ids.
 * Each byte of the pool is handed out once.
 */
function pooledRandom(n: number): Uint8Array<ArrayBuffer> {
  if (poolAt + n > pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  const out = pool.slice(poolAt, poolAt + n);
  poolAt += n;
  return out;
}

/**
 * A random id: `n` (≤ 64) CSPRNG bytes as unpadded base64url, read straight
 * out of the random pool (no byte array in between; it runs per message).
 *
 * @example
 * ```ts
 * import { randomId } from "@fastchat/lib/crypto";
 * randomId(16).length; // 22
 * ```
 */
export function randomId(n: number): string {
  if (!(n > 0 && n <= POOLED_MAX)) return toBase64Url(randomBytes(n));
  if (poolAt + n > pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  const s = Buffer.from(pool.buffer, poolAt, n).toString("base64url");
  poolAt += n;
  return s;
}

/**
 * Decodes unpadded base64url. Rejects (with `FastChatError("BAD_REQUEST")`)
 * padding, characters outside the alphabet, impossible lengths and
 * non-canonical encodings, so every byte string has exactly one encoding.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(fromBase64Url("-_8"), new Uint8Array([0xfb, 0xff]));
 * assert.throws(() => fromBase64Url("a+b/"), { code: "BAD_REQUEST" }); // not the url alphabet
 * ```
 */
export function fromBase64Url(s: string): Uint8Array<ArrayBuffer> {
  if (typeof s !== "string" || !BASE64URL_RE.test(s) || s.length % 4 === 1) {
    throw new FastChatError("BAD_REQUEST", "invalid base64url");
  }
  const buf = Buffer.from(s, "base64url");
  if (buf.toString("base64url") !== s) {
    throw new FastChatError("BAD_REQUEST", "non-canonical base64url");
  }
  return new Uint8Array(buf);
}

/**
 * Encodes bytes as lowercase hex.
 *
 * @example
 * ```ts
 * toHex(new Uint8Array([1, 255])); // "01ff"
 * ```
 */
export function toHex(b: Uint8Array): string {
  return view(b).toString("hex");
}

/**
 * Narrows bytes to the `BufferSource` type `crypto.subtle` requires
 * (`Uint8Array<ArrayBuffer>`): returns the same view when it is backed by
 * an `ArrayBuffer`, a copy when backed by a `SharedArrayBuffer`.
 *
 * @example
 * ```ts
 * const bytes: Uint8Array = new TextEncoder().encode("hi"); // any backing buffer
 * const digest = await crypto.subtle.digest("SHA-256", bufferSource(bytes));
 * ```
 */
export function bufferSource(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b.buffer instanceof ArrayBuffer ? b as Uint8Array<ArrayBuffer> : new Uint8Array(b);
}

/**
 * A plain `Uint8Array` over the same memory as `b`, without copying: turns
 * the Node `Buffer`s that postgres.js returns for `bytea` columns into the
 * Uint8Arrays the rest of FastChat works with (and `toEqual` compares).
 *
 * @example
 * ```ts
 * import { Buffer } from "node:buffer";
 * import { plainBytes } from "@fastchat/lib/crypto/bytes";
 * const row = { public_key: Buffer.from([1, 2, 3]) }; // as postgres.js returns bytea
 * const publicKey = plainBytes(row.public_key); // Uint8Array [1, 2, 3], same memory
 * ```
 */
export function plainBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Concatenates byte arrays into a new array.
 *
 * @example
 * ```ts
 * concatBytes(new Uint8Array([1]), new Uint8Array([2, 3])); // [1, 2, 3]
 * ```
 */
export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * Compares two byte arrays in time independent of their contents (lengths
 * are not secret: different lengths return `false` immediately).
 *
 * @example
 * ```ts
 * constantTimeEqual(new Uint8Array([1]), new Uint8Array([1])); // true
 * ```
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/**
 * Returns `n` cryptographically secure random bytes (any size; chunks
 * around the 65536-byte limit of `crypto.getRandomValues`).
 *
 * @example
 * ```ts
 * const salt = randomBytes(16);
 * ```
 */
export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  if (n > 0 && n <= POOLED_MAX) return pooledRandom(n);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new FastChatError("BAD_REQUEST", `invalid byte count: ${n}`);
  }
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) {
    crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  }
  return out;
}

/** Key material only: never ciphertext or plaintext (see {@link keyBytes}). */
const keySlab = new ByteSlab(4096);

/**
 * A copy of the key material `b` (a session key, a derived subkey, a
 * contact's public key) that shares its `ArrayBuffer` with other keys of
 * this process, up to 4 KiB of them, and with nothing else. A client holds
 * keys per contact and direction, long-lived: as arrays of their own they
 * were three objects each (view, buffer, backing store) that every full
 * collection visits and every collection of their generation sweeps; a
 * load worker held 44,000. Honour `byteOffset` with the result (it is a view).
 *
 * @example
 * ```ts
 * import { keyBytes } from "@fastchat/lib/crypto/bytes";
 * const a = keyBytes(new Uint8Array(32).fill(1));
 * const b = keyBytes(new Uint8Array(32).fill(2));
 * a.buffer === b.buffer; // true
 * a[0]; // 1
 * ```
 */
export function keyBytes(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return keySlab.copy(b);
}
