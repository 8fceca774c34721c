/**
 * The associated data of a chat message: its metadata, bound to each
 * ciphertext, so a server (or anyone) that moves a ciphertext to another
 * conversation, message id, timestamp or key id makes decryption fail.
 *
 * @example
 * ```ts
 * import { messageAad } from "@fastchat/lib/crypto";
 * const meta = { kind: "dm", from: "alice", to: "bob", id: "m1", sentAt: Date.now(), kid: "k1" };
 * messageAad(meta); // canonical bytes, passed as AAD to the cipher
 * ```
 * @module
 */

import { canonicalBytes, canonicalBytesView } from "./codec.ts";

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
 * encoding) overwrites: for passing straight to the cipher
 * (`sealChatMessage`, `openChatMessage`), once per message, without a copy.
 *
 * @example
 * ```ts
 * import { generateMessageKeyBytes, importMessageKey } from "@fastchat/lib/crypto";
 * import { sealChatMessage } from "@fastchat/lib/crypto/chat_aead";
 * const key = importMessageKey(generateMessageKeyBytes());
 * const f = { kind: "dm", from: "alice", to: "bob", id: "m1", sentAt: 1, kid: "k1" };
 * const { iv, ct } = sealChatMessage(key, new Uint8Array([1]), messageAadView(f));
 * ```
 */
export function messageAadView(p: MessageAadFields): Uint8Array {
  return canonicalBytesView(MESSAGE_AAD_DOMAIN, [p.kind, p.from, p.to, p.id, p.sentAt, p.kid]);
}
