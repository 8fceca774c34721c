/**
 * The wire format of load-balancer tickets: what a ticket claims, how it is
 * encoded, how LB keys are identified, and how rejections are reported.
 *
 * A ticket is the unpadded base64url of `body ‖ signature`, where `body` is
 * a small versioned binary record (all integers big-endian):
 *
 * ```text
 * u8  version (= 1)         raw8  keyId (LB key)      str16 serverId
 * str16 host                u16   port                u64   issuedAt (Unix ms)
 * u64 expiresAt (Unix ms)   raw16 nonce (random)
 * ```
 *
 * and `signature` is the 64-byte Ed25519 signature of
 * `canonicalBytes("fastchat/lb-ticket/v1", [body])` (domain-separated, so an
 * LB key can never be tricked into signing anything else that verifies).
 *
 * @example
 * ```ts
 * import { parseTicket } from "@fastchat/lib/cluster";
 * declare const ticket: string;
 * const { claims } = parseTicket(ticket); // structure only, NOT verified
 * console.log(claims.serverId, claims.expiresAt);
 * ```
 * @module
 */

import { createHash } from "node:crypto";
import { FastChatError } from "../errors.ts";
import { ticketError } from "./ticket_error.ts";
import {
  BinaryReader,
  BinaryWriter,
  canonicalBytes,
  concatBytes,
  fromBase64Url,
  toBase64Url,
} from "../crypto/mod.ts";

/** Current ticket format version (first byte of the body). */
export const TICKET_VERSION = 1;
/** Default ticket lifetime: 30 seconds. */
export const DEFAULT_TICKET_TTL_MS = 30_000;
/** Longest lifetime a signer issues or a verifier accepts by default: 5 minutes. */
export const MAX_TICKET_TTL_MS = 300_000;
/** Random nonce size: 128 bits. */
export const TICKET_NONCE_BYTES = 16;
/** Key id size in the body (shown as 11 base64url characters). */
export const TICKET_KEY_ID_BYTES = 8;
/** Longest encoded ticket accepted; longer input is rejected before decoding. */
export const MAX_TICKET_CHARS = 1024;
/** Ed25519 signature size. */
export const TICKET_SIGNATURE_BYTES = 64;

const SIGN_DOMAIN = "fastchat/lb-ticket/v1";
const KEY_ID_DOMAIN = "fastchat/lb-key-id/v1";
const MAX_SERVER_ID_CHARS = 128;
const MAX_HOST_CHARS = 255;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
const BODY_MIN_BYTES = 1 + TICKET_KEY_ID_BYTES + 3 + 3 + 2 + 8 + 8 + TICKET_NONCE_BYTES;

/**
 * What a ticket says. `nonce` and `keyId` are base64url strings.
 *
 * @example
 * ```ts
 * import type { TicketVerifier } from "@fastchat/lib/cluster";
 * declare const verifier: TicketVerifier, ticket: string;
 * declare function connect(host: string, port: number): void;
 * const c: TicketClaims = await verifier.verify(ticket, { serverId: "srv-1" });
 * connect(c.host, c.port);
 * ```
 */
export interface TicketClaims {
  /** Format version ({@link TICKET_VERSION}). */
  version: number;
  /** Id of the LB key that signed the ticket ({@link ticketKeyId}). */
  keyId: string;
  /** The chat server the ticket is good for. */
  serverId: string;
  /** Where that server listens. */
  host: string;
  /** Its port, 1–65535. */
  port: number;
  /** Issue time, Unix ms (LB clock). */
  issuedAt: number;
  /** Expiry time, Unix ms (LB clock); always after `issuedAt`. */
  expiresAt: number;
  /** 128-bit random nonce, base64url. */
  nonce: string;
}

/**
 * The key id of an LB public key: base64url of the first 8 bytes of
 * SHA-256 over a domain-separated encoding of the raw 32-byte key.
 *
 * @example
 * ```ts
 * declare const lbPublicKey: Uint8Array; // raw 32-byte Ed25519
 * const keyId = ticketKeyId(lbPublicKey); // 11 base64url chars, the `keyId` of its tickets
 * ```
 */
export function ticketKeyId(publicKey: Uint8Array): string {
  const digest = createHash("sha256").update(canonicalBytes(KEY_ID_DOMAIN, [publicKey])).digest();
  return toBase64Url(new Uint8Array(digest.subarray(0, TICKET_KEY_ID_BYTES)));
}

/** Throws (via `fail`) unless the claims are structurally valid. */
function checkClaims(c: TicketClaims, fail: (msg: string) => never): void {
  if (c.version !== TICKET_VERSION) fail(`unsupported ticket version: ${c.version}`);
  const text = (v: unknown, max: number, name: string) => {
    if (typeof v !== "string" || v.length > max || !PRINTABLE_ASCII.test(v)) {
      fail(`${name} must be 1-${max} printable ASCII characters`);
    }
  };
  text(c.serverId, MAX_SERVER_ID_CHARS, "serverId");
  text(c.host, MAX_HOST_CHARS, "host");
  if (!Number.isInteger(c.port) || c.port < 1 || c.port > 0xffff) fail("port must be 1-65535");
  for (const t of [c.issuedAt, c.expiresAt]) {
    if (!Number.isSafeInteger(t) || t < 0) fail("times must be non-negative safe integers");
  }
  if (c.expiresAt <= c.issuedAt) fail("ticket must expire after it is issued");
}

/**
 * Encodes claims as a ticket body. Throws `BAD_REQUEST` for invalid claims
 * (serverId/host: printable ASCII without spaces, up to 128/255 chars).
 *
 * @example
 * ```ts
 * declare const claims: TicketClaims;
 * const body = encodeTicketBody(claims); // throws BAD_REQUEST for invalid claims
 * ```
 */
export function encodeTicketBody(claims: TicketClaims): Uint8Array<ArrayBuffer> {
  checkClaims(claims, (msg) => {
    throw new FastChatError("BAD_REQUEST", msg);
  });
  const keyId = fromBase64Url(claims.keyId);
  const nonce = fromBase64Url(claims.nonce);
  if (keyId.length !== TICKET_KEY_ID_BYTES) throw new FastChatError("BAD_REQUEST", "bad keyId");
  if (nonce.length !== TICKET_NONCE_BYTES) throw new FastChatError("BAD_REQUEST", "bad nonce");
  const w = new BinaryWriter();
  w.u8(claims.version);
  w.raw(keyId);
  w.str16(claims.serverId);
  w.str16(claims.host);
  w.u16(claims.port);
  w.u64(claims.issuedAt);
  w.u64(claims.expiresAt);
  w.raw(nonce);
  return w.finish();
}

/**
 * The exact bytes the LB signs for a ticket body.
 *
 * @example
 * ```ts
 * declare const key: CryptoKey; // the LB's Ed25519 private key
 * declare const body: Uint8Array; // from encodeTicketBody
 * const sig = await crypto.subtle.sign("Ed25519", key, ticketSigningInput(body));
 * ```
 */
export function ticketSigningInput(body: Uint8Array): Uint8Array<ArrayBuffer> {
  return canonicalBytes(SIGN_DOMAIN, [body]);
}

/**
 * Joins a body and its signature into the compact ticket string.
 *
 * @example
 * ```ts
 * declare const body: Uint8Array, signature: Uint8Array; // 64-byte Ed25519 signature
 * const ticket = assembleTicket(body, signature);
 * ```
 */
export function assembleTicket(body: Uint8Array, signature: Uint8Array): string {
  if (signature.length !== TICKET_SIGNATURE_BYTES) {
    throw new FastChatError("BAD_REQUEST", "Ed25519 signature must be 64 bytes");
  }
  return toBase64Url(concatBytes(body, signature));
}

/**
 * A decoded but NOT yet verified ticket.
 *
 * @example
 * ```ts
 * declare const ticket: string;
 * const { claims, body, signature }: ParsedTicket = parseTicket(ticket);
 * ```
 */
export interface ParsedTicket {
  /** The claims (untrusted until the signature is checked). */
  claims: TicketClaims;
  /** The signed body bytes. */
  body: Uint8Array<ArrayBuffer>;
  /** The 64-byte signature. */
  signature: Uint8Array<ArrayBuffer>;
}

/**
 * Decodes a ticket string without checking its signature. Any structural
 * problem (wrong type, too long, bad base64url, truncated, trailing bytes,
 * unknown version, invalid field) throws `TICKET_MALFORMED` (reason
 * `"malformed"`; it never throws anything else.
 *
 * @example
 * ```ts
 * parseTicket("garbage"); // throws TICKET_MALFORMED { reason: "malformed" }
 * ```
 */
export function parseTicket(ticket: unknown): ParsedTicket {
  const fail = (msg: string, cause?: unknown): never => {
    throw ticketError("malformed", `malformed ticket: ${msg}`, undefined, cause);
  };
  if (typeof ticket !== "string" || ticket.length === 0) fail("expected a non-empty string");
  const s = ticket as string;
  if (s.length > MAX_TICKET_CHARS) fail("too long");
  let bytes: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  try {
    bytes = fromBase64Url(s);
  } catch (e) {
    fail("not base64url", e);
  }
  if (bytes.length < BODY_MIN_BYTES + TICKET_SIGNATURE_BYTES) fail("too short");
  if (bytes[0] !== TICKET_VERSION) fail(`unsupported ticket version: ${bytes[0]}`);
  const split = bytes.length - TICKET_SIGNATURE_BYTES;
  const body = bytes.slice(0, split);
  const signature = bytes.slice(split);
  let claims: TicketClaims | undefined;
  try {
    const r = new BinaryReader(body);
    claims = {
      version: r.u8(),
      keyId: toBase64Url(r.raw(TICKET_KEY_ID_BYTES)),
      serverId: r.str16(),
      host: r.str16(),
      port: r.u16(),
      issuedAt: r.u64(),
      expiresAt: r.u64(),
      nonce: toBase64Url(r.raw(TICKET_NONCE_BYTES)),
    };
    r.end();
  } catch (e) {
    fail(e instanceof Error ? e.message : "undecodable body", e);
  }
  checkClaims(claims!, fail);
  return { claims: claims!, body, signature };
}
