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
 * import { peekEnvelope } from "@fastchat/lib/crypto";
 * const { kid, sender, recipient, createdAt } = peekEnvelope(envelope);
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
 * decodeEnvelope(envelope).version === ENVELOPE_VERSION; // true
 * ```
 */
export const ENVELOPE_VERSION = 1;
/**
 * Bytes of randomness behind a kid.
 *
 * @example
 * ```ts
 * fromBase64Url(peekEnvelope(envelope).kid).length === KID_BYTES; // true
 * ```
 */
export const KID_BYTES = 16;
const SIG_DOMAIN = "fastchat/sk/v1/envelope";

/**
 * Every field of a session-key envelope.
 *
 * @example
 * ```ts
 * const f: EnvelopeFields = decodeEnvelope(envelope);
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
 * const info: EnvelopeInfo = peekEnvelope(envelope);
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
 * checkEnvelopeName("sender", "alice"); // "alice"
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
 * const stale = peekEnvelope(e).recipientKeyFingerprint !== encKeyFingerprint(myPub.enc);
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
 * const msg = envelopeSignedBytes(decodeEnvelope(envelope));
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
 * const f = decodeEnvelope(envelope);
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
