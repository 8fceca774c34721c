/**
 * Unambiguous binary encodings for things that get signed, hashed or used
 * as AAD ({@link canonicalBytes}), and a tiny bounds-checked writer/reader
 * pair for the small versioned binary formats (envelopes, identity blobs).
 *
 * @example
 * ```ts
 * import { canonicalBytes } from "@fastchat/lib/crypto";
 * const signed = canonicalBytes("fastchat/example/v1", ["alice", 42, new Uint8Array([1])]);
 * ```
 * @module
 */

import { FastChatError } from "../errors.ts";
import { utf8DecodeStrict, utf8Encode } from "./bytes.ts";

/**
 * A value that {@link canonicalBytes} can encode. Numbers must be
 * non-negative safe integers.
 *
 * @example
 * ```ts
 * const fields: CanonicalField[] = ["alice", 1700000000000, new Uint8Array(32)];
 * ```
 */
export type CanonicalField = string | number | Uint8Array;

const TAG_BYTES = 1;
const TAG_STRING = 2;
const TAG_UINT = 3;

function badRequest(message: string): FastChatError {
  return new FastChatError("BAD_REQUEST", message);
}

function checkUint(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw badRequest(`not a non-negative safe integer: ${n}`);
}

/**
 * Encodes a domain string and a list of typed fields so that distinct
 * inputs never produce the same bytes: the domain and every field are
 * length-prefixed (u32 big-endian), and each field carries a type tag
 * (bytes / UTF-8 string / u64), so `["ab", "c"]` ≠ `["a", "bc"]` and the
 * string `"1"` ≠ the number `1`. Use a distinct domain per purpose.
 *
 * @example
 * ```ts
 * const aad = canonicalBytes("fastchat/msg/v1", ["dm", "alice", "bob", 1700000000000]);
 * ```
 */
export function canonicalBytes(
  domain: string,
  fields: readonly CanonicalField[],
): Uint8Array<ArrayBuffer> {
  const n = encodeCanonical(domain, fields); // (may grow `scratch`: read it after)
  return scratch.slice(0, n);
}

/**
 * {@link canonicalBytes} without the copy: a view of a scratch buffer that
 * the next encoding overwrites, for a caller that uses it at once (the AAD
 * of a message, passed straight to the cipher).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const v = canonicalBytesView("fastchat/example/v1", ["alice", 42]);
 * assert.deepEqual(v.slice(), canonicalBytes("fastchat/example/v1", ["alice", 42]));
 * ```
 */
export function canonicalBytesView(
  domain: string,
  fields: readonly CanonicalField[],
): Uint8Array<ArrayBuffer> {
  const n = encodeCanonical(domain, fields); // (may grow `scratch`: read it after)
  return scratch.subarray(0, n);
}

/** Writes the encoding into `scratch`; returns its length. */
function encodeCanonical(domain: string, fields: readonly CanonicalField[]): number {
  // Runs once per message (AAD): writes straight into a reused scratch buffer.
  let at = putString(0, domain);
  at = putU32(at, fields.length);
  for (const f of fields) {
    if (typeof f === "string") {
      at = putU8(at, TAG_STRING);
      at = putString(at, f);
    } else if (typeof f === "number") {
      checkUint(f);
      at = putU8(at, TAG_UINT);
      at = putU32(at, 8);
      at = putU32(at, Math.floor(f / 0x1_0000_0000));
      at = putU32(at, f >>> 0);
    } else if (f instanceof Uint8Array) {
      at = putU8(at, TAG_BYTES);
      at = putU32(at, f.length);
      reserve(at, f.length);
      scratch.set(f, at);
      at += f.length;
    } else {
      throw badRequest("unsupported canonical field type");
    }
  }
  return at;
}

let scratch = new Uint8Array(1024);
const utf8 = new TextEncoder();

function reserve(at: number, n: number): void {
  if (at + n <= scratch.length) return;
  const next = new Uint8Array(Math.max(at + n, scratch.length * 2));
  next.set(scratch.subarray(0, at));
  scratch = next;
}

function putU8(at: number, n: number): number {
  reserve(at, 1);
  scratch[at] = n;
  return at + 1;
}

function putU32(at: number, n: number): number {
  reserve(at, 4);
  scratch[at] = n >>> 24;
  scratch[at + 1] = (n >>> 16) & 0xff;
  scratch[at + 2] = (n >>> 8) & 0xff;
  scratch[at + 3] = n & 0xff;
  return at + 4;
}

/** A u32 byte length, then the UTF-8 bytes of `s`. */
function putString(at: number, s: string): number {
  const n = s.length;
  reserve(at, 4 + 3 * n); // UTF-8 needs at most 3 bytes per UTF-16 unit
  const start = at + 4;
  let i = 0;
  // ASCII (ids, user names, kinds): a plain loop beats an encoder call.
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) break;
    scratch[start + i] = c;
  }
  let len = i;
  if (i < n) len = i + utf8.encodeInto(s.slice(i), scratch.subarray(start + i)).written;
  putU32(at, len);
  return start + len;
}

/**
 * Appends big-endian integers and length-prefixed byte strings to a growable buffer.
 *
 * @example
 * ```ts
 * const w = new BinaryWriter();
 * w.u8(1);
 * w.str16("alice");
 * const bytes = w.finish();
 * ```
 */
export class BinaryWriter {
  #buf: Uint8Array = new Uint8Array(256);
  #view: DataView = new DataView(this.#buf.buffer);
  #len = 0;

  #reserve(n: number): number {
    const need = this.#len + n;
    if (need > this.#buf.length) {
      const next = new Uint8Array(Math.max(need, this.#buf.length * 2));
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
      this.#view = new DataView(next.buffer);
    }
    const at = this.#len;
    this.#len = need;
    return at;
  }

  /** Writes one unsigned byte. */
  u8(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > 0xff) throw badRequest(`u8 out of range: ${n}`);
    const at = this.#reserve(1);
    this.#view.setUint8(at, n);
  }

  /** Writes an unsigned 16-bit integer. */
  u16(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw badRequest(`u16 out of range: ${n}`);
    const at = this.#reserve(2);
    this.#view.setUint16(at, n);
  }

  /** Writes an unsigned 32-bit integer. */
  u32(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw badRequest(`u32 out of range: ${n}`);
    const at = this.#reserve(4);
    this.#view.setUint32(at, n);
  }

  /** Writes a non-negative safe integer as 8 bytes. */
  u64(n: number): void {
    checkUint(n);
    const at = this.#reserve(8);
    this.#view.setBigUint64(at, BigInt(n));
  }

  /** Writes raw bytes without a length prefix. */
  raw(b: Uint8Array): void {
    const at = this.#reserve(b.length); // may reallocate #buf: reserve before reading it
    this.#buf.set(b, at);
  }

  /** Writes bytes with a u16 length prefix (max 65535 bytes). */
  bytes16(b: Uint8Array): void {
    this.u16(b.length);
    this.raw(b);
  }

  /** Writes bytes with a u32 length prefix. */
  bytes32(b: Uint8Array): void {
    this.u32(b.length);
    this.raw(b);
  }

  /** Writes a UTF-8 string with a u16 length prefix. */
  str16(s: string): void {
    this.bytes16(utf8Encode(s));
  }

  /** Returns a copy of everything written so far. */
  finish(): Uint8Array<ArrayBuffer> {
    return this.#buf.slice(0, this.#len);
  }
}

/**
 * Reads what {@link BinaryWriter} wrote. Every read is bounds-checked and
 * throws `FastChatError("BAD_REQUEST")` on truncated or malformed input;
 * call {@link BinaryReader.end} to reject trailing bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const w = new BinaryWriter();
 * w.u8(1);
 * w.str16("alice");
 * const r = new BinaryReader(w.finish());
 * const version = r.u8(); // 1
 * const name = r.str16(); // "alice"
 * r.end(); // throws BAD_REQUEST if bytes were left over
 * assert.deepEqual([version, name], [1, "alice"]);
 * ```
 */
export class BinaryReader {
  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;

  /** Starts reading `buf` at offset 0 (the bytes are not copied). */
  constructor(buf: Uint8Array) {
    if (!(buf instanceof Uint8Array)) throw badRequest("expected bytes");
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  #take(n: number): number {
    if (this.#pos + n > this.#buf.length) throw badRequest("truncated input");
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  /** Reads one unsigned byte. */
  u8(): number {
    return this.#view.getUint8(this.#take(1));
  }

  /** Reads an unsigned 16-bit integer. */
  u16(): number {
    return this.#view.getUint16(this.#take(2));
  }

  /** Reads an unsigned 32-bit integer. */
  u32(): number {
    return this.#view.getUint32(this.#take(4));
  }

  /** Reads an 8-byte integer; rejects values above `Number.MAX_SAFE_INTEGER`. */
  u64(): number {
    const v = this.#view.getBigUint64(this.#take(8));
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw badRequest("u64 out of safe range");
    return Number(v);
  }

  /** Reads `n` raw bytes (a copy). */
  raw(n: number): Uint8Array<ArrayBuffer> {
    const at = this.#take(n);
    return this.#buf.slice(at, at + n);
  }

  /** Reads u16-length-prefixed bytes. */
  bytes16(): Uint8Array<ArrayBuffer> {
    return this.raw(this.u16());
  }

  /** Reads u32-length-prefixed bytes. */
  bytes32(): Uint8Array<ArrayBuffer> {
    return this.raw(this.u32());
  }

  /** Reads a u16-length-prefixed strict UTF-8 string. */
  str16(): string {
    return utf8DecodeStrict(this.bytes16());
  }

  /** Throws unless every byte has been consumed. */
  end(): void {
    if (this.#pos !== this.#buf.length) throw badRequest("trailing bytes");
  }
}
