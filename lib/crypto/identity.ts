/**
 * A user's long-term identity: an RSA-OAEP-2048 (SHA-256, e = 65537) key
 * pair that receives wrapped session keys, and an Ed25519 key pair that
 * signs them. Includes public-key export/validation and the password-sealed
 * backup format.
 *
 * Extractability trade-off: {@link generateIdentity} creates extractable
 * private keys, because a fresh identity must be serialized once to be
 * sealed into the vault backup. {@link importIdentity} (and therefore
 * {@link openIdentity}) imports private keys non-extractable by default, so
 * after login no script can read them back out of the `CryptoKey`s. To
 * re-seal under a new password, pass `{ extractable: true }` or re-seal the
 * plaintext bytes from `openVault` directly.
 *
 * @example
 * ```ts
 * import {
 *   derivePasswordKeys,
 *   exportPublicKeys,
 *   generateIdentity,
 *   newKdfSalt,
 *   openIdentity,
 *   sealIdentity,
 * } from "@fastchat/lib/crypto";
 * const { vaultKey } = await derivePasswordKeys("correct horse", newKdfSalt());
 * const id = await generateIdentity();
 * const pub = await exportPublicKeys(id); // upload to the server
 * const backup = await sealIdentity(id, vaultKey); // upload too
 * const restored = await openIdentity(backup, vaultKey);
 * ```
 * @module
 */

import { FastChatError } from "../errors.ts";
import { heavyCrypto } from "./heavy.ts";
import { bufferSource, constantTimeEqual, randomBytes, utf8Encode } from "./bytes.ts";
import { BinaryReader, BinaryWriter } from "./codec.ts";
import { openVault, sealVault } from "./vault.ts";
import {
  ED25519,
  exportPublicKeys,
  importPublicKeys,
  RSA_MODULUS_BITS,
  RSA_PARAMS,
} from "./public_keys.ts";

/**
 * Identity blob format version.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const blob = await exportIdentity(await generateIdentity());
 * assert.equal(blob[0], IDENTITY_VERSION);
 * ```
 */
export const IDENTITY_VERSION = 1;

// Re-exported so that `identity.ts` alone offers the whole identity API.
export { exportPublicKeys, importPublicKeys, RSA_MODULUS_BITS } from "./public_keys.ts";
export type { ImportedPublicKeys, PublicKeys } from "./public_keys.ts";

/**
 * A user's long-term key pairs.
 *
 * @example
 * ```ts
 * const id: Identity = await generateIdentity();
 * ```
 */
export interface Identity {
  /** RSA-OAEP 2048, SHA-256, e = 65537. */
  encrypt: CryptoKeyPair;
  /** Ed25519. */
  sign: CryptoKeyPair;
}

/**
 * Options for {@link importIdentity} / {@link openIdentity}.
 *
 * @example
 * ```ts
 * const opts: ImportIdentityOptions = { extractable: true };
 * ```
 */
export interface ImportIdentityOptions {
  /** Import private keys extractable (needed to `exportIdentity` again). Default `false`. */
  extractable?: boolean;
}

function bad(message: string, cause?: unknown): FastChatError {
  return new FastChatError("BAD_REQUEST", message, undefined, { cause });
}

/**
 * Generates a new identity (RSA-OAEP-2048 + Ed25519; ~100–600 ms).
 *
 * @example
 * ```ts
 * const id = await generateIdentity();
 * ```
 */
export async function generateIdentity(): Promise<Identity> {
  const [encrypt, sign] = await Promise.all([
    heavyCrypto(() =>
      crypto.subtle.generateKey(
        {
          ...RSA_PARAMS,
          modulusLength: RSA_MODULUS_BITS,
          publicExponent: new Uint8Array([1, 0, 1]),
        },
        true,
        ["encrypt", "decrypt"],
      )
    ),
    crypto.subtle.generateKey(ED25519, true, ["sign", "verify"]),
  ]);
  return { encrypt: encrypt as CryptoKeyPair, sign: sign as CryptoKeyPair };
}

/**
 * Serializes both key pairs (private keys as PKCS#8) into a versioned
 * binary blob: `u8 version ‖ u16-len enc PKCS8 ‖ u16-len enc SPKI ‖
 * u16-len sign PKCS8 ‖ u16-len sign raw`. This is secret material; seal it
 * with {@link sealIdentity}. Throws `BAD_REQUEST` if the private keys are
 * not extractable.
 *
 * @example
 * ```ts
 * const blob = await exportIdentity(await generateIdentity());
 * ```
 */
export async function exportIdentity(id: Identity): Promise<Uint8Array> {
  if (!id.encrypt.privateKey.extractable || !id.sign.privateKey.extractable) {
    throw bad("identity private keys are not extractable");
  }
  const [encPriv, signPriv, pub] = await Promise.all([
    crypto.subtle.exportKey("pkcs8", id.encrypt.privateKey),
    crypto.subtle.exportKey("pkcs8", id.sign.privateKey),
    exportPublicKeys(id),
  ]);
  const w = new BinaryWriter();
  w.u8(IDENTITY_VERSION);
  w.bytes16(new Uint8Array(encPriv));
  w.bytes16(pub.enc);
  w.bytes16(new Uint8Array(signPriv));
  w.bytes16(pub.sign);
  return w.finish();
}

/**
 * Parses a blob from {@link exportIdentity}, imports the keys and checks
 * that each private key matches its public key (one sign/verify and one
 * encrypt/decrypt, ~2 ms). Throws `FastChatError("BAD_REQUEST")` on any
 * malformed or inconsistent input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const blob = await exportIdentity(await generateIdentity());
 * const id = await importIdentity(blob); // private keys non-extractable
 * assert.equal(id.sign.privateKey.extractable, false);
 * ```
 */
export async function importIdentity(
  blob: Uint8Array,
  options: ImportIdentityOptions = {},
): Promise<Identity> {
  const r = new BinaryReader(blob);
  const version = r.u8();
  if (version !== IDENTITY_VERSION) throw bad(`unsupported identity version ${version}`);
  const encPkcs8 = r.bytes16();
  const encSpki = r.bytes16();
  const signPkcs8 = r.bytes16();
  const signRaw = r.bytes16();
  r.end();
  const pub = await importPublicKeys({ enc: encSpki, sign: signRaw });
  const extractable = options.extractable === true;
  let encPriv: CryptoKey, signPriv: CryptoKey;
  try {
    const encData = bufferSource(encPkcs8);
    encPriv = await crypto.subtle.importKey("pkcs8", encData, RSA_PARAMS, extractable, ["decrypt"]);
    signPriv = await crypto.subtle.importKey(
      "pkcs8",
      bufferSource(signPkcs8),
      ED25519,
      extractable,
      ["sign"],
    );
  } catch (e) {
    throw bad("invalid identity private key", e);
  } finally {
    encPkcs8.fill(0);
    signPkcs8.fill(0);
  }
  const id: Identity = {
    encrypt: { publicKey: pub.enc, privateKey: encPriv },
    sign: { publicKey: pub.sign, privateKey: signPriv },
  };
  await checkPairs(id);
  return id;
}

async function checkPairs(id: Identity): Promise<void> {
  const challenge = randomBytes(32);
  const label = utf8Encode("fastchat/identity-check/v1");
  try {
    const sig = await crypto.subtle.sign(ED25519, id.sign.privateKey, bufferSource(challenge));
    const sigOk = await crypto.subtle.verify(
      ED25519,
      id.sign.publicKey,
      sig,
      bufferSource(challenge),
    );
    const wrapped = await crypto.subtle.encrypt(
      { name: "RSA-OAEP", label: bufferSource(label) },
      id.encrypt.publicKey,
      bufferSource(challenge),
    );
    const back = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "RSA-OAEP", label: bufferSource(label) },
        id.encrypt.privateKey,
        wrapped,
      ),
    );
    if (sigOk && constantTimeEqual(back, challenge)) return;
  } catch (e) {
    throw bad("identity private and public keys do not match", e);
  }
  throw bad("identity private and public keys do not match");
}

/**
 * Exports the identity and seals it under the vault key (label `"identity"`).
 *
 * @example
 * ```ts
 * // stands in for the password-derived key: derivePasswordKeys(password, salt).vaultKey
 * const vaultKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
 *   "encrypt",
 *   "decrypt",
 * ]);
 * const backup = await sealIdentity(await generateIdentity(), vaultKey);
 * ```
 */
export async function sealIdentity(id: Identity, vaultKey: CryptoKey): Promise<Uint8Array> {
  const blob = await exportIdentity(id);
  try {
    return await sealVault(vaultKey, blob, "identity");
  } finally {
    blob.fill(0);
  }
}

/**
 * Opens a backup from {@link sealIdentity}. Throws
 * `FastChatError("WRONG_PASSWORD_LOCAL")` if the vault key is wrong or the
 * backup was tampered with, `BAD_REQUEST` if its contents are malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // stands in for the password-derived key: derivePasswordKeys(password, salt).vaultKey
 * const vaultKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
 *   "encrypt",
 *   "decrypt",
 * ]);
 * const backup = await sealIdentity(await generateIdentity(), vaultKey);
 * const id = await openIdentity(backup, vaultKey);
 * const wrongKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
 *   "encrypt",
 *   "decrypt",
 * ]);
 * await assert.rejects(openIdentity(backup, wrongKey), { code: "WRONG_PASSWORD_LOCAL" });
 * ```
 */
export async function openIdentity(
  sealed: Uint8Array,
  vaultKey: CryptoKey,
  options: ImportIdentityOptions = {},
): Promise<Identity> {
  const blob = await openVault(vaultKey, sealed, "identity");
  try {
    return await importIdentity(blob, options);
  } finally {
    blob.fill(0);
  }
}
