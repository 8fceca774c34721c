/**
 * Wire format of direct-message session-key envelopes (no crypto here
 * besides hashing; signing and wrapping live in `session_key.ts`).
 *
 * Envelope version 1, integers big-endian:
 *
 * ```text
 * u8 version | str16 kid | str16 sender | str16 recipient | u64 createdAt
 * | bytes16 recipientKeyFingerprint (SHA-256 of the recipient RSA SPKI, 32 bytes)
 * | bytes16 wrapped (RSA-OAEP-SHA256 of the 32-byte key, label "fastchat/sk/v1")
 * | bytes16 signature (Ed25519, 64 bytes)
 * ```
 *
 * The signature covers {@link envelopeSignedBytes}: every field but the
 * signature, domain-separated and length-prefixed via `canonicalBytes`.
 *
 * @example
 * ```ts
 * import {
 *   ENVELOPE_VERSION,
 *   encodeEnvelope,
 *   type EnvelopeFields,
 *   KID_BYTES,
 *   peekEnvelope,
 *   randomBytes,
 *   spkiFingerprint,
 *   toBase64Url,
 * } from "@fastchat/lib/crypto";
 * const bobSpki = new Uint8Array(294); // stands in for bob's RSA SPKI (exportPublicKeys)
 * const fields: EnvelopeFields = {
 *   version: ENVELOPE_VERSION, kid: toBase64Url(randomBytes(KID_BYTES)), sender: "alice",
 *   recipient: "bob", createdAt: Date.now(), recipientKeyFingerprint: spkiFingerprint(bobSpki),
 *   wrapped: new Uint8Array(256), signature: new Uint8Array(64), // createSessionKey fills these
 * };
 * const envelope = encodeEnvelope(fields);
 * const { kid, sender, recipient, createdAt } = peekEnvelope(envelope); // "alice", "bob", ...
 * ```
 * @module
 */

import { createHash } from "node:crypto";
import { FastChatError } from "../errors.ts";
import { fromBase64Url, toHex, utf8Encode } from "./bytes.ts";
import { BinaryReader, BinaryWriter, canonicalBytes } from "./codec.ts";

/**
 * Envelope format version.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomBytes, toBase64Url } from "@fastchat/lib/crypto";
 * const bobSpki = new Uint8Array(294); // stands in for bob's RSA SPKI (exportPublicKeys)
 * const fields: EnvelopeFields = {
 *   version: ENVELOPE_VERSION, kid: toBase64Url(randomBytes(KID_BYTES)), sender: "alice",
 *   recipient: "bob", createdAt: Date.now(), recipientKeyFingerprint: spkiFingerprint(bobSpki),
 *   wrapped: new Uint8Array(256), signature: new Uint8Array(64), // createSessionKey fills these
 * };
 * const envelope = encodeEnvelope(fields);
 * assert.equal(decodeEnvelope(envelope).version, ENVELOPE_VERSION);
 * ```
 */
export const ENVELOPE_VERSION = 1;
/**
 * Bytes of randomness behind a kid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromBase64Url, randomBytes, toBase64Url } from "@fastchat/lib/crypto";
 * const bobSpki = new Uint8Array(294); // stands in for bob's RSA SPKI (exportPublicKeys)
 * const fields: EnvelopeFields = {
 *   version: ENVELOPE_VERSION, kid: toBase64Url(randomBytes(KID_BYTES)), sender: "alice",
 *   recipient: "bob", createdAt: Date.now(), recipientKeyFingerprint: spkiFingerprint(bobSpki),
 *   wrapped: new Uint8Array(256), signature: new Uint8Array(64), // createSessionKey fills these
 * };
 * const envelope = encodeEnvelope(fields);
 * assert.equal(fromBase64Url(peekEnvelope(envelope).kid).length, KID_BYTES);
 * ```
 */
export const KID_BYTES = 16;
const SIG_DOMAIN = "fastchat/sk/v1/envelope";

/**
 * Every field of a session-key envelope.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomBytes, toBase64Url } from "@fastchat/lib/crypto";
 * const bobSpki = new Uint8Array(294); // stands in for bob's RSA SPKI (exportPublicKeys)
 * const fields: EnvelopeFields = {
 *   version: ENVELOPE_VERSION, kid: toBase64Url(randomBytes(KID_BYTES)), sender: "alice",
 *   recipient: "bob", createdAt: Date.now(), recipientKeyFingerprint: spkiFingerprint(bobSpki),
 *   wrapped: new Uint8Array(256), signature: new Uint8Array(64), // createSessionKey fills these
 * };
 * const envelope = encodeEnvelope(fields);
 * const f: EnvelopeFields = decodeEnvelope(envelope);
 * assert.deepEqual(f, fields);
 * ```
 */
export interface EnvelopeFields {
  /** Format version ({@link ENVELOPE_VERSION}). */
  version: number;
  /** Key id (base64url of 16 random bytes). */
  kid: string;
  /** Sender username. */
  sender: string;
  /** Recipient username. */
  recipient: string;
  /** Creation time, ms since epoch (sender's clock). */
  createdAt: number;
  /** SHA-256 of the recipient RSA SPKI the key was wrapped for (32 bytes). */
  recipientKeyFingerprint: Uint8Array;
  /** RSA-OAEP-wrapped session key. */
  wrapped: Uint8Array;
  /** Ed25519 signature over {@link envelopeSignedBytes} (64 bytes). */
  signature: Uint8Array;
}

/**
 * Header fields readable without any key ({@link peekEnvelope}).
 *
 * @example
 * ```ts
 * import { randomBytes, toBase64Url } from "@fastchat/lib/crypto";
 * const bobSpki = new Uint8Array(294); // stands in for bob's RSA SPKI (exportPublicKeys)
 * const fields: EnvelopeFields = {
 *   version: ENVELOPE_VERSION, kid: toBase64Url(randomBytes(KID_BYTES)), sender: "alice",
 *   recipient: "bob", createdAt: Date.now(), recipientKeyFingerprint: spkiFingerprint(bobSpki),
 *   wrapped: new Uint8Array(256), signature: new Uint8Array(64), // createSessionKey fills these
 * };
 * const envelope = encodeEnvelope(fields);
 * const info: EnvelopeInfo = peekEnvelope(envelope); // fingerprint as hex
 * ```
 */
export interface EnvelopeInfo {
  /** Key id. */
  kid: string;
  /** Sender username. */
  sender: string;
  /** Recipient username. */
  recipient: string;
  /** Creation time, ms since epoch (sender's clock). */
  createdAt: number;
  /** Hex SHA-256 of the recipient RSA SPKI, comparable with {@link encKeyFingerprint}. */
  recipientKeyFingerprint: string;
}

function bad(message: string): FastChatError {
  return new FastChatError("BAD_REQUEST", message);
}

/**
 * Validates a sender/recipient name: a non-empty string of at most 1024 UTF-8 bytes.
 * Throws `BAD_REQUEST` otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(checkEnvelopeName("sender", "alice"), "alice");
 * assert.throws(() => checkEnvelopeName("sender", ""), { code: "BAD_REQUEST" });
 * ```
 */
export function checkEnvelopeName(what: string, s: unknown): string {
  if (typeof s !== "string" || s.length === 0 || utf8Encode(s).length > 1024) {
    throw bad(`invalid ${what} name`);
  }
  return s;
}

/**
 * Raw SHA-256 of an RSA SPKI (the envelope's recipient key fingerprint).
 *
 * @example
 * ```ts
 * import { exportPublicKeys, generateIdentity } from "@fastchat/lib/crypto";
 * const bobPub = await exportPublicKeys(await generateIdentity());
 * const fpr = spkiFingerprint(bobPub.enc); // Uint8Array(32)
 * ```
 */
export function spkiFingerprint(spki: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(spki).digest());
}

/**
 * Hex SHA-256 of an RSA SPKI; compare with `peekEnvelope(e).recipientKeyFingerprint`
 * to notice envelopes wrapped for an old key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomBytes, toBase64Url } from "@fastchat/lib/crypto";
 * const bobSpki = new Uint8Array(294); // stands in for bob's RSA SPKI (exportPublicKeys)
 * const fields: EnvelopeFields = {
 *   version: ENVELOPE_VERSION, kid: toBase64Url(randomBytes(KID_BYTES)), sender: "alice",
 *   recipient: "bob", createdAt: Date.now(), recipientKeyFingerprint: spkiFingerprint(bobSpki),
 *   wrapped: new Uint8Array(256), signature: new Uint8Array(64), // createSessionKey fills these
 * };
 * const envelope = encodeEnvelope(fields);
 * const myOldSpki = bobSpki;
 * const myNewSpki = new Uint8Array(294).fill(1); // after a key rotation
 * assert.equal(peekEnvelope(envelope).recipientKeyFingerprint, encKeyFingerprint(myOldSpki));
 * const stale = peekEnvelope(envelope).recipientKeyFingerprint !== encKeyFingerprint(myNewSpki);
 * ```
 */
export function encKeyFingerprint(spki: Uint8Array): string {
  return toHex(spkiFingerprint(spki));
}

/**
 * The exact bytes the sender signs: all fields except the signature.
 *
 * @example
 * ```ts
 * import { randomBytes, toBase64Url } from "@fastchat/lib/crypto";
 * const bobSpki = new Uint8Array(294); // stands in for bob's RSA SPKI (exportPublicKeys)
 * const fields: EnvelopeFields = {
 *   version: ENVELOPE_VERSION, kid: toBase64Url(randomBytes(KID_BYTES)), sender: "alice",
 *   recipient: "bob", createdAt: Date.now(), recipientKeyFingerprint: spkiFingerprint(bobSpki),
 *   wrapped: new Uint8Array(256), signature: new Uint8Array(64), // createSessionKey fills these
 * };
 * const envelope = encodeEnvelope(fields);
 * const msg = envelopeSignedBytes(decodeEnvelope(envelope)); // what the Ed25519 key signs
 * ```
 */
export function envelopeSignedBytes(f: Omit<EnvelopeFields, "signature">): Uint8Array {
  return canonicalBytes(SIG_DOMAIN, [
    f.version,
    f.kid,
    f.sender,
    f.recipient,
    f.createdAt,
    f.recipientKeyFingerprint,
    f.wrapped,
  ]);
}

/**
 * Serializes envelope fields.
 *
 * @example
 * ```ts
 * import { randomBytes, toBase64Url } from "@fastchat/lib/crypto";
 * const bobSpki = new Uint8Array(294); // stands in for bob's RSA SPKI (exportPublicKeys)
 * const fields: EnvelopeFields = {
 *   version: ENVELOPE_VERSION, kid: toBase64Url(randomBytes(KID_BYTES)), sender: "alice",
 *   recipient: "bob", createdAt: Date.now(), recipientKeyFingerprint: spkiFingerprint(bobSpki),
 *   wrapped: new Uint8Array(256), signature: new Uint8Array(64), // createSessionKey fills these
 * };
 * const signature = new Uint8Array(64); // Ed25519 over envelopeSignedBytes(fields)
 * const bytes = encodeEnvelope({ ...fields, signature });
 * ```
 */
export function encodeEnvelope(f: EnvelopeFields): Uint8Array {
  const w = new BinaryWriter();
  w.u8(f.version);
  w.str16(f.kid);
  w.str16(f.sender);
  w.str16(f.recipient);
  w.u64(f.createdAt);
  w.bytes16(f.recipientKeyFingerprint);
  w.bytes16(f.wrapped);
  w.bytes16(f.signature);
  return w.finish();
}

/**
 * Parses and structurally validates an envelope (version, kid, names,
 * field lengths, no trailing bytes); nothing is verified cryptographically.
 * Throws `FastChatError("BAD_REQUEST")` if malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomBytes, toBase64Url } from "@fastchat/lib/crypto";
 * const bobSpki = new Uint8Array(294); // stands in for bob's RSA SPKI (exportPublicKeys)
 * const fields: EnvelopeFields = {
 *   version: ENVELOPE_VERSION, kid: toBase64Url(randomBytes(KID_BYTES)), sender: "alice",
 *   recipient: "bob", createdAt: Date.now(), recipientKeyFingerprint: spkiFingerprint(bobSpki),
 *   wrapped: new Uint8Array(256), signature: new Uint8Array(64), // createSessionKey fills these
 * };
 * const envelope = encodeEnvelope(fields);
 * const f = decodeEnvelope(envelope);
 * assert.throws(() => decodeEnvelope(envelope.subarray(1)), { code: "BAD_REQUEST" });
 * ```
 */
export function decodeEnvelope(envelope: Uint8Array): EnvelopeFields {
  const r = new BinaryReader(envelope);
  const version = r.u8();
  if (version !== ENVELOPE_VERSION) throw bad(`unsupported envelope version ${version}`);
  const f: EnvelopeFields = {
    version,
    kid: r.str16(),
    sender: checkEnvelopeName("sender", r.str16()),
    recipient: checkEnvelopeName("recipient", r.str16()),
    createdAt: r.u64(),
    recipientKeyFingerprint: r.bytes16(),
    wrapped: r.bytes16(),
    signature: r.bytes16(),
  };
  r.end();
  if (fromBase64Url(f.kid).length !== KID_BYTES) throw bad("invalid kid");
  if (f.recipientKeyFingerprint.length !== 32) throw bad("invalid recipient key fingerprint");
  if (f.wrapped.length === 0) throw bad("missing wrapped key");
  if (f.signature.length !== 64) throw bad("invalid signature length");
  return f;
}

/**
 * Reads the envelope header without verifying anything (e.g. to choose
 * the sender's keys or detect a stale recipient key). Throws
 * `FastChatError("BAD_REQUEST")` if malformed. Do not trust the result
 * until `openSessionKey` succeeds.
 *
 * @example
 * ```ts
 * import { randomBytes, toBase64Url } from "@fastchat/lib/crypto";
 * const bobSpki = new Uint8Array(294); // stands in for bob's RSA SPKI (exportPublicKeys)
 * const fields: EnvelopeFields = {
 *   version: ENVELOPE_VERSION, kid: toBase64Url(randomBytes(KID_BYTES)), sender: "alice",
 *   recipient: "bob", createdAt: Date.now(), recipientKeyFingerprint: spkiFingerprint(bobSpki),
 *   wrapped: new Uint8Array(256), signature: new Uint8Array(64), // createSessionKey fills these
 * };
 * const envelope = encodeEnvelope(fields);
 * const { kid, sender, recipient, createdAt } = peekEnvelope(envelope);
 * ```
 */
export function peekEnvelope(envelope: Uint8Array): EnvelopeInfo {
  const f = decodeEnvelope(envelope);
  return {
    kid: f.kid,
    sender: f.sender,
    recipient: f.recipient,
    createdAt: f.createdAt,
    recipientKeyFingerprint: toHex(f.recipientKeyFingerprint),
  };
}
