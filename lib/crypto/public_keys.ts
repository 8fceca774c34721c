/**
 * Public halves of identities: wire form ({@link PublicKeys}: RSA SPKI +
 * raw Ed25519), export, and validated import of peers' keys.
 *
 * @example
 * ```ts
 * import { exportPublicKeys, generateIdentity, importPublicKeys } from "@fastchat/lib/crypto";
 * const id = await generateIdentity();
 * const wire = await exportPublicKeys(id); // upload
 * const peer = await importPublicKeys(wire); // on another client, validated
 * ```
 * @module
 */

import { FastChatError } from "../errors.ts";
import { bufferSource } from "./bytes.ts";
import { isSmallOrderEd25519Key } from "./ed25519_weak_keys.ts";
import type { Identity } from "./identity.ts";

/**
 * Modulus size of generated RSA keys (and the minimum accepted from peers).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateIdentity } from "@fastchat/lib/crypto";
 * const id = await generateIdentity();
 * const alg = id.encrypt.publicKey.algorithm as RsaHashedKeyAlgorithm;
 * assert.equal(alg.modulusLength, RSA_MODULUS_BITS);
 * ```
 */
export const RSA_MODULUS_BITS = 2048;
/**
 * Largest RSA modulus accepted from peers.
 *
 * @example
 * ```ts
 * // importPublicKeys rejects RSA keys larger than MAX_RSA_MODULUS_BITS
 * ```
 */
export const MAX_RSA_MODULUS_BITS = 8192;
/**
 * WebCrypto parameters of identity encryption keys.
 *
 * @example
 * ```ts
 * import { bufferSource, generateIdentity } from "@fastchat/lib/crypto";
 * const { enc: spki } = await exportPublicKeys(await generateIdentity());
 * const k = await crypto.subtle.importKey("spki", bufferSource(spki), RSA_PARAMS, true, ["encrypt"]);
 * ```
 */
export const RSA_PARAMS: RsaHashedImportParams = { name: "RSA-OAEP", hash: "SHA-256" };
/**
 * WebCrypto parameters of identity signing keys.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const pair = await crypto.subtle.generateKey(ED25519, false, ["sign", "verify"]) as CryptoKeyPair;
 * const data = new TextEncoder().encode("hello");
 * const sig = await crypto.subtle.sign(ED25519, pair.privateKey, data);
 * assert.ok(await crypto.subtle.verify(ED25519, pair.publicKey, sig, data));
 * ```
 */
export const ED25519: Algorithm = { name: "Ed25519" };

/**
 * The public half of an {@link Identity} in wire form.
 *
 * @example
 * ```ts
 * import { generateIdentity } from "@fastchat/lib/crypto";
 * const pub: PublicKeys = await exportPublicKeys(await generateIdentity());
 * ```
 */
export interface PublicKeys {
  /** RSA public key, SPKI DER. */
  enc: Uint8Array;
  /** Ed25519 public key, raw 32 bytes. */
  sign: Uint8Array;
}

/**
 * Validated, imported peer public keys plus the wire bytes they came from.
 *
 * @example
 * ```ts
 * import { generateIdentity } from "@fastchat/lib/crypto";
 * const pub = await exportPublicKeys(await generateIdentity()); // as fetched from the server
 * const peer: ImportedPublicKeys = await importPublicKeys(pub);
 * ```
 */
export interface ImportedPublicKeys {
  /** RSA-OAEP public key (`encrypt` usage). */
  enc: CryptoKey;
  /** Ed25519 public key (`verify` usage). */
  sign: CryptoKey;
  /** Copy of the wire bytes. */
  raw: PublicKeys;
}

function bad(message: string, cause?: unknown): FastChatError {
  return new FastChatError("BAD_REQUEST", message, undefined, { cause });
}

/**
 * Exports the public keys of an identity for publication.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateIdentity } from "@fastchat/lib/crypto";
 * const { enc, sign } = await exportPublicKeys(await generateIdentity());
 * assert.equal(sign.length, 32); // raw Ed25519; `enc` is the RSA SPKI (DER)
 * ```
 */
export async function exportPublicKeys(id: Identity): Promise<PublicKeys> {
  const [enc, sign] = await Promise.all([
    crypto.subtle.exportKey("spki", id.encrypt.publicKey),
    crypto.subtle.exportKey("raw", id.sign.publicKey),
  ]);
  return { enc: new Uint8Array(enc), sign: new Uint8Array(sign) };
}

/**
 * Imports and validates peer public keys. Throws `FastChatError("BAD_REQUEST")`
 * for anything that is not an RSA SPKI with a 2048–8192-bit modulus and
 * exponent 65537, or not a 32-byte Ed25519 key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateIdentity } from "@fastchat/lib/crypto";
 * const bobIdentity = await generateIdentity();
 * const bob = await importPublicKeys(await exportPublicKeys(bobIdentity));
 * const forged = { enc: bob.raw.enc, sign: new Uint8Array(31) };
 * await assert.rejects(importPublicKeys(forged), { code: "BAD_REQUEST" });
 * ```
 */
export async function importPublicKeys(pk: PublicKeys): Promise<ImportedPublicKeys> {
  if (!pk || !(pk.enc instanceof Uint8Array) || !(pk.sign instanceof Uint8Array)) {
    throw bad("public keys must be byte arrays");
  }
  if (pk.sign.length !== 32) throw bad("Ed25519 public key must be 32 bytes");
  if (isSmallOrderEd25519Key(pk.sign)) throw bad("weak (small-order) Ed25519 public key");
  let enc: CryptoKey, sign: CryptoKey;
  try {
    enc = await crypto.subtle.importKey("spki", bufferSource(pk.enc), RSA_PARAMS, true, [
      "encrypt",
    ]);
  } catch (e) {
    throw bad("invalid RSA public key", e);
  }
  try {
    sign = await crypto.subtle.importKey("raw", bufferSource(pk.sign), ED25519, true, ["verify"]);
  } catch (e) {
    throw bad("invalid Ed25519 public key", e);
  }
  const alg = enc.algorithm as RsaHashedKeyAlgorithm;
  if (alg.modulusLength < RSA_MODULUS_BITS || alg.modulusLength > MAX_RSA_MODULUS_BITS) {
    throw new FastChatError(
      "BAD_REQUEST",
      `RSA modulus must be ${RSA_MODULUS_BITS}-${MAX_RSA_MODULUS_BITS} bits`,
      { modulusLength: alg.modulusLength },
    );
  }
  const e = Array.from(alg.publicExponent).join(",");
  if (e !== "1,0,1" && e !== "0,1,0,1") throw bad("RSA public exponent must be 65537");
  return { enc, sign, raw: { enc: pk.enc.slice(), sign: pk.sign.slice() } };
}
