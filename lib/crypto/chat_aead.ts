/**
 * The AEAD of chat message bodies: XChaCha20-Poly1305 (libsodium, compiled
 * to WebAssembly), with AES-256-GCM bodies of earlier versions still read.
 *
 * Why not AES-256-GCM through `node:crypto` as before: in Deno every
 * `createCipheriv` builds a Node stream object and several Buffers around
 * a few hundred nanoseconds of AES work, so a 100-byte message cost
 * 7–9 µs to seal and 5–7 µs to open, with garbage to match; that was a
 * quarter of a client's CPU per message. libsodium's XChaCha20-Poly1305
 * does the same job in under 1 µs of cipher work, synchronously and
 * constant-time; it is called through its raw exports with the output,
 * the nonces and the plaintexts taken from slabs (`xchacha_arena.ts`,
 * `../byte_slab.ts`: a fresh array per call cost more than the cipher).
 * Its 192-bit nonce is safe to pick at random for any number of messages
 * under one key.
 *
 * The cipher is told by the nonce's length: {@link CHAT_NONCE_BYTES} (24)
 * is XChaCha20-Poly1305 under a subkey derived from the message key
 * (HKDF-SHA-256, so one key never serves two algorithms); 12 is
 * AES-256-GCM under the key itself ({@link openMessage}). Changing a body's
 * nonce length cannot pass as the other cipher: its tag fails to verify.
 *
 * @example
 * ```ts
 * import { generateMessageKeyBytes, importMessageKey } from "@fastchat/lib/crypto";
 * import { openChatMessage, sealChatMessage } from "@fastchat/lib/crypto/chat_aead";
 * const key = importMessageKey(generateMessageKeyBytes());
 * const aad = new TextEncoder().encode("context");
 * const { iv, ct } = sealChatMessage(key, new TextEncoder().encode("hi"), aad);
 * new TextDecoder().decode(openChatMessage(key, iv, ct, aad)); // "hi"
 * ```
 * @module
 */

import { ByteSlab } from "../byte_slab.ts";
import { FastChatError } from "../errors.ts";
import { IV_BYTES, type MessageKey, messageSubkey, openMessage, TAG_BYTES } from "./aead.ts";
import { utf8Encode } from "./bytes.ts";
import { type MessageAadFields, messageAadView } from "./message_aad.ts";
import { xchachaOpen, xchachaSeal } from "./xchacha_arena.ts";

/**
 * Nonce length of an XChaCha20-Poly1305 body (an AES-256-GCM body's is 12).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateMessageKeyBytes, importMessageKey } from "@fastchat/lib/crypto";
 * import { CHAT_NONCE_BYTES, sealChatMessage } from "@fastchat/lib/crypto/chat_aead";
 * const { iv } = sealChatMessage(importMessageKey(generateMessageKeyBytes()), new Uint8Array(1), new Uint8Array(0));
 * assert.equal(iv.length, CHAT_NONCE_BYTES);
 * ```
 */
export const CHAT_NONCE_BYTES = 24;
/** HKDF label of the XChaCha20-Poly1305 subkey of a message key. */
const SUBKEY_INFO = "fastchat chat message xchacha20poly1305 v1";
/** Ciphertexts (public) and plaintexts (not) never share a slab. */
const sealed = new ByteSlab();
const opened = new ByteSlab();
/** Nonces come out of fresh CSPRNG blocks, each byte handed out once. */
const NONCE_BLOCK = 4080; // 170 nonces
let nonces = new Uint8Array(0);
let nonceAt = 0;

function freshNonce(): Uint8Array {
  if (nonceAt + CHAT_NONCE_BYTES > nonces.length) {
    nonces = crypto.getRandomValues(new Uint8Array(NONCE_BLOCK));
    nonceAt = 0;
  }
  return nonces.subarray(nonceAt, nonceAt += CHAT_NONCE_BYTES);
}

function subkeyOf(key: MessageKey): Uint8Array {
  return messageSubkey(key, SUBKEY_INFO);
}

function decryptFailed(cause?: unknown): FastChatError {
  return new FastChatError("DECRYPT_FAILED", "message authentication failed", undefined, { cause });
}

/**
 * Seals a message body with XChaCha20-Poly1305 and a fresh random 24-byte
 * nonce; `ct` is ciphertext ‖ 16-byte tag. `aad` is authenticated, not
 * encrypted.
 *
 * @example
 * ```ts
 * import { generateMessageKeyBytes, importMessageKey } from "@fastchat/lib/crypto";
 * import { sealChatMessage } from "@fastchat/lib/crypto/chat_aead";
 * const key = importMessageKey(generateMessageKeyBytes());
 * const { iv, ct } = sealChatMessage(key, new TextEncoder().encode("hi"), new Uint8Array(0));
 * console.log(iv.length, ct.length); // 24 18
 * ```
 */
export function sealChatMessage(
  key: MessageKey,
  plaintext: Uint8Array,
  aad: Uint8Array,
): { iv: Uint8Array; ct: Uint8Array } {
  const iv = freshNonce();
  return { iv, ct: xchachaSeal(sealed, plaintext, aad, iv, subkeyOf(key)) };
}

/**
 * Opens a body sealed by {@link sealChatMessage} (24-byte nonce) or, from
 * an earlier version, by `sealMessage` (AES-256-GCM, 12-byte nonce).
 * Throws `FastChatError("DECRYPT_FAILED")` on a bad tag, wrong key, wrong
 * AAD or any other nonce length; no plaintext before the tag verifies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateMessageKeyBytes, importMessageKey, sealMessage } from "@fastchat/lib/crypto";
 * import { openChatMessage, sealChatMessage } from "@fastchat/lib/crypto/chat_aead";
 * const key = importMessageKey(generateMessageKeyBytes());
 * const aad = new Uint8Array([1]);
 * const a = sealChatMessage(key, new Uint8Array([7]), aad);
 * const b = sealMessage(key, new Uint8Array([8]), aad); // an earlier version's body
 * assert.deepEqual([...openChatMessage(key, a.iv, a.ct, aad), ...openChatMessage(key, b.iv, b.ct, aad)], [7, 8]);
 * assert.throws(() => openChatMessage(key, a.iv, a.ct, new Uint8Array([2])), { code: "DECRYPT_FAILED" });
 * ```
 */
export function openChatMessage(
  key: MessageKey,
  iv: Uint8Array,
  ct: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  if (iv instanceof Uint8Array && iv.length === IV_BYTES) return openMessage(key, iv, ct, aad);
  if (
    !(iv instanceof Uint8Array) || iv.length !== CHAT_NONCE_BYTES ||
    !(ct instanceof Uint8Array) || ct.length < TAG_BYTES
  ) throw decryptFailed();
  const pt = xchachaOpen(opened, ct, aad, iv, subkeyOf(key));
  if (pt === null) throw decryptFailed();
  return pt;
}

const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Encrypts UTF-8 text (synchronous, fresh random IV).
 *
 * @example
 * ```ts
 * import { generateMessageKeyBytes, importMessageKey } from "@fastchat/lib/crypto";
 * const key = importMessageKey(generateMessageKeyBytes()); // from createSessionKey/openSessionKey
 * const meta = { kind: "dm", from: "alice", to: "bob", id: "m1", sentAt: Date.now(), kid: "k1" };
 * const { iv, ct } = encryptText(key, "hello", meta);
 * ```
 */
export function encryptText(
  key: MessageKey,
  text: string,
  aadFields: MessageAadFields,
): { iv: Uint8Array; ct: Uint8Array } {
  return sealChatMessage(key, utf8Encode(text), messageAadView(aadFields));
}

/**
 * Decrypts text from {@link encryptText}. Throws
 * `FastChatError("DECRYPT_FAILED")` if authentication fails (wrong key,
 * tampered iv/ct, any different metadata field) or the plaintext is not
 * valid UTF-8.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateMessageKeyBytes, importMessageKey } from "@fastchat/lib/crypto";
 * const key = importMessageKey(generateMessageKeyBytes()); // from createSessionKey/openSessionKey
 * const meta = { kind: "dm", from: "alice", to: "bob", id: "m1", sentAt: Date.now(), kid: "k1" };
 * const { iv, ct } = encryptText(key, "hello", meta);
 * assert.equal(decryptText(key, iv, ct, meta), "hello");
 * const moved = { ...meta, to: "carol" }; // e.g. a server replaying it into another conversation
 * assert.throws(() => decryptText(key, iv, ct, moved), { code: "DECRYPT_FAILED" });
 * ```
 */
export function decryptText(
  key: MessageKey,
  iv: Uint8Array,
  ct: Uint8Array,
  aadFields: MessageAadFields,
): string {
  let aad: Uint8Array;
  try {
    aad = messageAadView(aadFields);
  } catch (e) {
    throw new FastChatError("DECRYPT_FAILED", "invalid message metadata", undefined, { cause: e });
  }
  const pt = openChatMessage(key, iv, ct, aad);
  try {
    return strictDecoder.decode(pt);
  } catch (e) {
    throw new FastChatError("DECRYPT_FAILED", "message is not valid UTF-8", undefined, {
      cause: e,
    });
  }
}
