/**
 * Direct-message session keys: a random 32-byte AES key, wrapped once with
 * the recipient's RSA-OAEP key (SHA-256, label `"fastchat/sk/v1"`) and
 * signed by the sender's Ed25519 key. One RSA operation per session key,
 * never per message. The envelope layout is in `session_envelope.ts`.
 *
 * @example
 * ```ts
 * import {
 *   createSessionKey,
 *   exportPublicKeys,
 *   generateIdentity,
 *   importPublicKeys,
 *   openSessionKey,
 * } from "@fastchat/lib/crypto";
 * const alice = await generateIdentity();
 * const bob = await generateIdentity();
 * const alicePub = await importPublicKeys(await exportPublicKeys(alice)); // as bob fetched them
 * const bobPub = await importPublicKeys(await exportPublicKeys(bob)); // as alice fetched them
 * const sk = await createSessionKey({
 *   sender: "alice", recipient: "bob", senderIdentity: alice, recipientKeys: bobPub,
 * });
 * const got = await openSessionKey({
 *   envelope: sk.envelope, expectedSender: "alice", expectedRecipient: "bob",
 *   recipientIdentity: bob, senderKeys: alicePub,
 * });
 * ```
 * @module
 */

import { FastChatError } from "../errors.ts";
import { heavyCrypto } from "./heavy.ts";
import {
  bufferSource,
  constantTimeEqual,
  randomBytes,
  toBase64Url,
  toHex,
  utf8Encode,
} from "./bytes.ts";
import type { Identity, ImportedPublicKeys } from "./identity.ts";
import {
  checkEnvelopeName,
  decodeEnvelope,
  encodeEnvelope,
  ENVELOPE_VERSION,
  type EnvelopeFields,
  envelopeSignedBytes,
  KID_BYTES,
  spkiFingerprint,
} from "./session_envelope.ts";

const OAEP_LABEL = utf8Encode("fastchat/sk/v1");
const KEY_BYTES = 32;

/**
 * Input of {@link createSessionKey}.
 *
 * @example
 * ```ts
 * import { exportPublicKeys, generateIdentity, importPublicKeys } from "@fastchat/lib/crypto";
 * const senderIdentity = await generateIdentity(); // alice's own identity
 * const recipientKeys = await importPublicKeys(await exportPublicKeys(await generateIdentity()));
 * const p: CreateSessionKeyParams = { sender: "alice", recipient: "bob", senderIdentity, recipientKeys };
 * ```
 */
export interface CreateSessionKeyParams {
  /** Sender username (signed into the envelope). */
  sender: string;
  /** Recipient username (signed into the envelope). */
  recipient: string;
  /** Sender's identity; its Ed25519 private key signs. */
  senderIdentity: Identity;
  /** Recipient's validated public keys; the RSA key wraps. */
  recipientKeys: ImportedPublicKeys;
  /** Override the timestamp (ms since epoch); defaults to `Date.now()`. */
  now?: number;
}

/**
 * Output of {@link createSessionKey}.
 *
 * @example
 * ```ts
 * import {
 *   exportPublicKeys,
 *   generateIdentity,
 *   importMessageKey,
 *   importPublicKeys,
 * } from "@fastchat/lib/crypto";
 * const p: CreateSessionKeyParams = {
 *   sender: "alice",
 *   recipient: "bob",
 *   senderIdentity: await generateIdentity(),
 *   recipientKeys: await importPublicKeys(await exportPublicKeys(await generateIdentity())),
 * };
 * const sk: CreatedSessionKey = await createSessionKey(p);
 * const mk = importMessageKey(sk.key); // encrypts messages until the key rotates
 * ```
 */
export interface CreatedSessionKey {
  /** Key id (base64url of 16 random bytes). */
  kid: string;
  /** The raw 32-byte AES-256 key. */
  key: Uint8Array;
  /** Signed, wrapped envelope to send to the recipient. */
  envelope: Uint8Array;
  /** Timestamp signed into the envelope. */
  createdAt: number;
}

/**
 * Input of {@link openSessionKey}.
 *
 * @example
 * ```ts
 * import { exportPublicKeys, generateIdentity, importPublicKeys } from "@fastchat/lib/crypto";
 * const alice = await generateIdentity();
 * const bob = await generateIdentity();
 * const alicePub = await importPublicKeys(await exportPublicKeys(alice)); // as bob fetched them
 * const bobPub = await importPublicKeys(await exportPublicKeys(bob)); // as alice fetched them
 * const sk = await createSessionKey({
 *   sender: "alice", recipient: "bob", senderIdentity: alice, recipientKeys: bobPub,
 * });
 * const p: OpenSessionKeyParams = {
 *   envelope: sk.envelope, expectedSender: "alice", expectedRecipient: "bob",
 *   recipientIdentity: bob, senderKeys: alicePub,
 * };
 * ```
 */
export interface OpenSessionKeyParams {
  /** Envelope bytes from {@link createSessionKey}. */
  envelope: Uint8Array;
  /** Who the caller believes sent it (must match the signed sender). */
  expectedSender: string;
  /** Who the caller believes receives it (must match the signed recipient). */
  expectedRecipient: string;
  /** Recipient's own identity; its RSA private key unwraps. */
  recipientIdentity: Identity;
  /** Sender's validated public keys; the Ed25519 key verifies. */
  senderKeys: ImportedPublicKeys;
}

/**
 * Output of {@link openSessionKey}.
 *
 * @example
 * ```ts
 * import { exportPublicKeys, generateIdentity, importPublicKeys } from "@fastchat/lib/crypto";
 * const alice = await generateIdentity();
 * const bob = await generateIdentity();
 * const alicePub = await importPublicKeys(await exportPublicKeys(alice)); // as bob fetched them
 * const bobPub = await importPublicKeys(await exportPublicKeys(bob)); // as alice fetched them
 * const sk = await createSessionKey({
 *   sender: "alice", recipient: "bob", senderIdentity: alice, recipientKeys: bobPub,
 * });
 * const p: OpenSessionKeyParams = {
 *   envelope: sk.envelope, expectedSender: "alice", expectedRecipient: "bob",
 *   recipientIdentity: bob, senderKeys: alicePub,
 * };
 * const { kid, key, createdAt }: OpenedSessionKey = await openSessionKey(p);
 * ```
 */
export interface OpenedSessionKey {
  /** Key id. */
  kid: string;
  /** The raw 32-byte AES-256 key. */
  key: Uint8Array;
  /** Signed creation timestamp (sender's clock). */
  createdAt: number;
}

/**
 * Creates a fresh session key for `sender` → `recipient` and its signed,
 * wrapped envelope (one RSA encryption, one Ed25519 signature).
 *
 * @example
 * ```ts
 * import { exportPublicKeys, generateIdentity, importPublicKeys } from "@fastchat/lib/crypto";
 * const alice = await generateIdentity();
 * const bobPub = await importPublicKeys(await exportPublicKeys(await generateIdentity()));
 * const { kid, key, envelope } = await createSessionKey({
 *   sender: "alice", recipient: "bob", senderIdentity: alice, recipientKeys: bobPub,
 * });
 * // send `envelope` to bob; encrypt with `key` (importMessageKey), tagging messages with `kid`
 * ```
 */
export async function createSessionKey(
  params: CreateSessionKeyParams,
): Promise<CreatedSessionKey> {
  const sender = checkEnvelopeName("sender", params.sender);
  const recipient = checkEnvelopeName("recipient", params.recipient);
  const createdAt = params.now ?? Date.now();
  const key = randomBytes(KEY_BYTES);
  const kid = toBase64Url(randomBytes(KID_BYTES));
  const wrapped = new Uint8Array(
    await heavyCrypto(() =>
      crypto.subtle.encrypt(
        { name: "RSA-OAEP", label: bufferSource(OAEP_LABEL) },
        params.recipientKeys.enc,
        bufferSource(key),
      )
    ),
  );
  const fields: Omit<EnvelopeFields, "signature"> = {
    version: ENVELOPE_VERSION,
    kid,
    sender,
    recipient,
    createdAt,
    recipientKeyFingerprint: spkiFingerprint(params.recipientKeys.raw.enc),
    wrapped,
  };
  const signature = new Uint8Array(
    await crypto.subtle.sign(
      { name: "Ed25519" },
      params.senderIdentity.sign.privateKey,
      bufferSource(envelopeSignedBytes(fields)),
    ),
  );
  return { kid, key, envelope: encodeEnvelope({ ...fields, signature }), createdAt };
}

const spkiCache = new WeakMap<CryptoKey, Uint8Array>();

async function ownFingerprint(id: Identity): Promise<Uint8Array> {
  let fpr = spkiCache.get(id.encrypt.publicKey);
  if (!fpr) {
    fpr = spkiFingerprint(
      new Uint8Array(await crypto.subtle.exportKey("spki", id.encrypt.publicKey)),
    );
    spkiCache.set(id.encrypt.publicKey, fpr);
  }
  return fpr;
}

/**
 * Verifies and unwraps a session-key envelope. Order: parse
 * (`BAD_REQUEST`); sender/recipient names and the Ed25519 signature under
 * `senderKeys` (`BAD_SIGNATURE`); only then the RSA unwrap
 * (`DECRYPT_FAILED`, also when the envelope was wrapped for another key
 * than `recipientIdentity`'s, e.g. before a key rotation).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exportPublicKeys, generateIdentity, importPublicKeys } from "@fastchat/lib/crypto";
 * const alice = await generateIdentity();
 * const bob = await generateIdentity();
 * const alicePub = await importPublicKeys(await exportPublicKeys(alice)); // as bob fetched them
 * const bobPub = await importPublicKeys(await exportPublicKeys(bob)); // as alice fetched them
 * const { envelope } = await createSessionKey({
 *   sender: "alice", recipient: "bob", senderIdentity: alice, recipientKeys: bobPub,
 * });
 * const { kid, key, createdAt } = await openSessionKey({
 *   envelope, expectedSender: "alice", expectedRecipient: "bob",
 *   recipientIdentity: bob, senderKeys: alicePub,
 * });
 * // the signed sender is alice: presented as coming from anyone else, it is rejected
 * const asIfFromCarol = { envelope, expectedSender: "carol", expectedRecipient: "bob" };
 * await assert.rejects(
 *   openSessionKey({ ...asIfFromCarol, recipientIdentity: bob, senderKeys: alicePub }),
 *   { code: "BAD_SIGNATURE" },
 * );
 * ```
 */
export async function openSessionKey(params: OpenSessionKeyParams): Promise<OpenedSessionKey> {
  const f = decodeEnvelope(params.envelope);
  if (f.sender !== params.expectedSender || f.recipient !== params.expectedRecipient) {
    throw new FastChatError("BAD_SIGNATURE", "session key envelope is for another conversation", {
      sender: f.sender,
      recipient: f.recipient,
    });
  }
  let ok = false;
  try {
    ok = await crypto.subtle.verify(
      { name: "Ed25519" },
      params.senderKeys.sign,
      bufferSource(f.signature),
      bufferSource(envelopeSignedBytes(f)),
    );
  } catch {
    ok = false;
  }
  if (!ok) throw new FastChatError("BAD_SIGNATURE", "bad session key envelope signature");

  if (
    !constantTimeEqual(await ownFingerprint(params.recipientIdentity), f.recipientKeyFingerprint)
  ) {
    throw new FastChatError("DECRYPT_FAILED", "session key was wrapped for another key", {
      recipientKeyFingerprint: toHex(f.recipientKeyFingerprint),
    });
  }
  let key: Uint8Array;
  try {
    key = new Uint8Array(
      await heavyCrypto(() =>
        crypto.subtle.decrypt(
          { name: "RSA-OAEP", label: bufferSource(OAEP_LABEL) },
          params.recipientIdentity.encrypt.privateKey,
          bufferSource(f.wrapped),
        )
      ),
    );
  } catch (e) {
    throw new FastChatError("DECRYPT_FAILED", "cannot unwrap session key", undefined, {
      cause: e,
    });
  }
  if (key.length !== KEY_BYTES) {
    throw new FastChatError("DECRYPT_FAILED", "unwrapped session key has wrong length");
  }
  return { kid: f.kid, key, createdAt: f.createdAt };
}
