/**
 * Chunked AES-256-GCM for files: each file gets a fresh 32-byte key and a
 * 16-byte id, and is cut into {@link FILE_CHUNK_BYTES} chunks that are sealed
 * one by one. The authenticated data of a chunk binds the file id, the chunk
 * index and whether it is the last chunk, so chunks cannot be swapped between
 * files, reordered, dropped, or the file truncated at a chunk boundary without
 * the receiver noticing: a receiver opens chunk `i` expecting index `i`, and
 * only a chunk sealed with `last = true` ends the file.
 *
 * A sealed chunk is `iv (12) ‖ ciphertext ‖ tag (16)`, so it is
 * {@link FILE_CHUNK_OVERHEAD} bytes longer than its plaintext.
 *
 * @example
 * ```ts
 * import { newFileKey, openFileChunk, sealFileChunk } from "@fastchat/lib/crypto";
 * const fk = newFileKey();
 * const sealed = sealFileChunk(fk, 0, true, new TextEncoder().encode("hello"));
 * new TextDecoder().decode(openFileChunk(fk, 0, true, sealed)); // "hello"
 * ```
 * @module
 */

import { FastChatError } from "../errors.ts";
import {
  generateMessageKeyBytes,
  importMessageKey,
  IV_BYTES,
  type MessageKey,
  openMessage,
  sealMessage,
  TAG_BYTES,
} from "./aead.ts";
import { randomBytes, utf8Encode } from "./bytes.ts";

/** Plaintext bytes per chunk (256 KiB); the last chunk may be shorter. */
export const FILE_CHUNK_BYTES = 256 * 1024;

/** Bytes a sealed chunk adds to its plaintext (IV and tag). */
export const FILE_CHUNK_OVERHEAD = IV_BYTES + TAG_BYTES;

/** Length of a file id in bytes. */
export const FILE_ID_BYTES = 16;

const DOMAIN = utf8Encode("fastchat/file/v1\0");

/**
 * The secret half of a file transfer: its raw key and id, sent to the
 * recipients inside an end-to-end-encrypted message, and the imported key.
 *
 * @example
 * ```ts
 * const fk: FileKey = newFileKey();
 * fk.raw.length; // 32
 * ```
 */
export interface FileKey {
  /** Raw AES-256 key (32 bytes). */
  readonly raw: Uint8Array;
  /** File id (16 random bytes), bound into every chunk. */
  readonly id: Uint8Array;
  /** The imported key. */
  readonly key: MessageKey;
}

/**
 * A fresh random key and id for one file.
 *
 * @example
 * ```ts
 * const a = newFileKey(), b = newFileKey();
 * a.id.length === 16 && a.raw !== b.raw; // true
 * ```
 */
export function newFileKey(): FileKey {
  return fileKeyFrom(generateMessageKeyBytes(), randomBytes(FILE_ID_BYTES));
}

/**
 * Rebuilds a {@link FileKey} from the raw key and id a file message carried.
 * Throws `FastChatError("BAD_REQUEST")` on wrong lengths.
 *
 * @example
 * ```ts
 * const fk = newFileKey();
 * const same = fileKeyFrom(fk.raw, fk.id);
 * ```
 */
export function fileKeyFrom(raw: Uint8Array, id: Uint8Array): FileKey {
  if (!(id instanceof Uint8Array) || id.length !== FILE_ID_BYTES) {
    throw new FastChatError("BAD_REQUEST", `file id must be ${FILE_ID_BYTES} bytes`);
  }
  return Object.freeze({ raw: raw.slice(), id: id.slice(), key: importMessageKey(raw) });
}

/**
 * How many chunks a file of `size` bytes has (an empty file has one, empty,
 * last chunk).
 *
 * @example
 * ```ts
 * fileChunkCount(0); // 1
 * fileChunkCount(FILE_CHUNK_BYTES + 1); // 2
 * ```
 */
export function fileChunkCount(size: number, chunkBytes = FILE_CHUNK_BYTES): number {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new FastChatError("BAD_REQUEST", "file size must be a non-negative integer");
  }
  return Math.max(1, Math.ceil(size / chunkBytes));
}

/**
 * The authenticated data of chunk `index`: domain, file id, index, last flag.
 *
 * @example
 * ```ts
 * const aad = fileChunkAad(newFileKey().id, 3, false); // 17 + 16 + 5 bytes
 * ```
 */
export function fileChunkAad(id: Uint8Array, index: number, last: boolean): Uint8Array {
  if (!Number.isInteger(index) || index < 0 || index > 0xffff_ffff) {
    throw new FastChatError("BAD_REQUEST", "chunk index out of range");
  }
  const aad = new Uint8Array(DOMAIN.length + id.length + 5);
  aad.set(DOMAIN, 0);
  aad.set(id, DOMAIN.length);
  const v = new DataView(aad.buffer);
  v.setUint32(DOMAIN.length + id.length, index);
  aad[aad.length - 1] = last ? 1 : 0;
  return aad;
}

/**
 * Seals chunk `index` of a file; `last` marks the final chunk.
 *
 * @example
 * ```ts
 * const sealed = sealFileChunk(newFileKey(), 0, true, new Uint8Array(10));
 * sealed.length; // 10 + FILE_CHUNK_OVERHEAD
 * ```
 */
export function sealFileChunk(
  fk: FileKey,
  index: number,
  last: boolean,
  plaintext: Uint8Array,
): Uint8Array {
  const { iv, ct } = sealMessage(fk.key, plaintext, fileChunkAad(fk.id, index, last));
  const out = new Uint8Array(iv.length + ct.length);
  out.set(iv, 0);
  out.set(ct, iv.length);
  return out;
}

/**
 * Opens chunk `index`, which the caller expects to be (or not be) the last.
 * Throws `FastChatError("DECRYPT_FAILED")` when the chunk was altered, belongs
 * to another file or position, or its last flag differs from `last`.
 *
 * @example
 * ```ts
 * const fk = newFileKey();
 * const sealed = sealFileChunk(fk, 1, false, new Uint8Array(4));
 * openFileChunk(fk, 1, false, sealed); // Uint8Array(4)
 * ```
 */
export function openFileChunk(
  fk: FileKey,
  index: number,
  last: boolean,
  sealed: Uint8Array,
): Uint8Array {
  if (!(sealed instanceof Uint8Array) || sealed.length < FILE_CHUNK_OVERHEAD) {
    throw new FastChatError("DECRYPT_FAILED", "file chunk too short");
  }
  return openMessage(
    fk.key,
    sealed.subarray(0, IV_BYTES),
    sealed.subarray(IV_BYTES),
    fileChunkAad(fk.id, index, last),
  );
}
