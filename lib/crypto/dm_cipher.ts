/**
 * Encryption of direct-message text under a session key. The AAD binds
 * each ciphertext to its message metadata, so a server (or anyone) that
 * moves a ciphertext to another conversation, message id, timestamp or key
 * id makes decryption fail.
 *
 * @example
 * ```ts
 * import {
 *   decryptText,
 *   encryptText,
 *   generateMessageKeyBytes,
 *   importMessageKey,
 * } from "@fastchat/lib/crypto";
 * const key = importMessageKey(generateMessageKeyBytes()); // the session key's bytes
 * const kid = "k1"; // the session key's id
 * const meta = { kind: "dm", from: "alice", to: "bob", id: "m1", sentAt: Date.now(), kid };
 * const { iv, ct } = encryptText(key, "hello", meta);
 * decryptText(key, iv, ct, meta); // "hello"
 * ```
 * @module
 */

import { FastChatError } from "../errors.ts";
import { utf8Encode } from "./bytes.ts";
import { canonicalBytes, canonicalBytesView } from "./codec.ts";
import type { MessageKey } from "./aead.ts";
import { openChatMessage, sealChatMessage } from "./chat_aead.ts";

/**
 * Domain separator of message AAD.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { canonicalBytes } from "@fastchat/lib/crypto";
 * const f = { kind: "dm", from: "alice", to: "bob", id: "m1", sentAt: 1, kid: "k1" };
 * assert.deepEqual(
 *   canonicalBytes(MESSAGE_AAD_DOMAIN, [f.kind, f.from, f.to, f.id, f.sentAt, f.kid]),
 *   messageAad(f),
 * );
 * ```
 */
export const MESSAGE_AAD_DOMAIN = "fastchat/msg/v1";

const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Metadata authenticated with every message.
 *
 * @example
 * ```ts
 * const f: MessageAadFields = { kind: "dm", from: "alice", to: "bob", id: "m1", sentAt: 1, kid: "k1" };
 * ```
 */
export interface MessageAadFields {
  /** Message kind, e.g. `"dm"`. */
  kind: string;
  /** Sender username. */
  from: string;
  /** Recipient username. */
  to: string;
  /** Client-chosen message id. */
  id: string;
  /** Send time, ms since epoch (non-negative integer). */
  sentAt: number;
  /** Session key id. */
  kid: string;
}

/**
 * Canonical AAD: `canonicalBytes("fastchat/msg/v1", [kind, from, to, id, sentAt, kid])`
 * (type-tagged, length-prefixed fields). Throws `BAD_REQUEST` if `sentAt`
 * is not a non-negative safe integer.
 *
 * @example
 * ```ts
 * const aad = messageAad({ kind: "dm", from: "alice", to: "bob", id: "m1", sentAt: 1, kid: "k" });
 * ```
 */
export function messageAad(p: MessageAadFields): Uint8Array {
  return canonicalBytes(MESSAGE_AAD_DOMAIN, [p.kind, p.from, p.to, p.id, p.sentAt, p.kid]);
}

/**
 * {@link messageAad} as a view that the next AAD (or any canonical
 * encoding) overwrites: for passing straight to {@link sealChatMessage} or
 * {@link openChatMessage}, once per message, without a copy.
 *
 * @example
 * ```ts
 * import { generateMessageKeyBytes, importMessageKey, sealChatMessage } from "@fastchat/lib/crypto";
 * const key = importMessageKey(generateMessageKeyBytes());
 * const f = { kind: "dm", from: "alice", to: "bob", id: "m1", sentAt: 1, kid: "k1" };
 * const { iv, ct } = sealChatMessage(key, new Uint8Array([1]), messageAadView(f));
 * ```
 */
export function messageAadView(p: MessageAadFields): Uint8Array {
  return canonicalBytesView(MESSAGE_AAD_DOMAIN, [p.kind, p.from, p.to, p.id, p.sentAt, p.kid]);
}

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
