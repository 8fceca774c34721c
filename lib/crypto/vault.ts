/**
 * Authenticated encryption of small blobs (identity backup, local files)
 * under the password-derived vault key, via `crypto.subtle` (not a hot path).
 *
 * Format: `version (1 byte, = 1) ‖ iv (12 bytes) ‖ AES-256-GCM ciphertext ‖ tag (16 bytes)`,
 * with AAD `utf8("fastchat/vault/v1/" + label)`, so a blob sealed for one
 * purpose (label) cannot be substituted for another.
 *
 * @example
 * ```ts
 * import { derivePasswordKeys, newKdfSalt, openVault, sealVault } from "@fastchat/lib/crypto";
 * const { vaultKey } = await derivePasswordKeys("correct horse", newKdfSalt());
 * const sealed = await sealVault(vaultKey, new TextEncoder().encode("secret"), "notes");
 * const plain = await openVault(vaultKey, sealed, "notes");
 * ```
 * @module
 */

import { FastChatError } from "../errors.ts";
import { bufferSource, randomBytes, utf8Encode } from "./bytes.ts";

/**
 * Current vault format version (first byte of a sealed blob).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const vaultKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
 *   "encrypt",
 *   "decrypt",
 * ]); // in the client: derivePasswordKeys(password, salt).vaultKey
 * const sealed = await sealVault(vaultKey, new TextEncoder().encode("secret"), "notes");
 * assert.equal(sealed[0], VAULT_VERSION);
 * ```
 */
export const VAULT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES;

function vaultAad(label: string): Uint8Array {
  if (typeof label !== "string" || label.length === 0) {
    throw new FastChatError("BAD_REQUEST", "vault label must be a non-empty string");
  }
  return utf8Encode("fastchat/vault/v1/" + label);
}

function cannotDecrypt(reason: string, cause?: unknown): FastChatError {
  return new FastChatError(
    "WRONG_PASSWORD_LOCAL",
    "cannot decrypt (wrong password or corrupted file)",
    { reason },
    { cause },
  );
}

/**
 * Encrypts `plaintext` under the vault key, bound to `label`.
 *
 * @example
 * ```ts
 * const vaultKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
 *   "encrypt",
 *   "decrypt",
 * ]); // in the client: derivePasswordKeys(password, salt).vaultKey
 * const sealed = await sealVault(vaultKey, new TextEncoder().encode("secret"), "identity");
 * ```
 */
export async function sealVault(
  key: CryptoKey,
  plaintext: Uint8Array,
  label: string,
): Promise<Uint8Array> {
  const aad = vaultAad(label);
  const iv = randomBytes(IV_BYTES);
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: bufferSource(iv), additionalData: bufferSource(aad) },
      key,
      bufferSource(plaintext),
    ),
  );
  const out = new Uint8Array(HEADER_BYTES + ct.length);
  out[0] = VAULT_VERSION;
  out.set(iv, 1);
  out.set(ct, HEADER_BYTES);
  return out;
}

/**
 * Decrypts a blob from {@link sealVault}. Any failure (wrong key, i.e.
 * wrong password; wrong label; truncation; tampering; unknown version)
 * throws `FastChatError("WRONG_PASSWORD_LOCAL")` with `details.reason`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const newKey = () =>
 *   crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
 * const vaultKey = await newKey();
 * const sealed = await sealVault(vaultKey, new TextEncoder().encode("secret"), "identity");
 * const bytes = await openVault(vaultKey, sealed, "identity"); // bytes of "secret"
 * const otherKey = await newKey(); // e.g. derived from a mistyped password
 * await assert.rejects(openVault(otherKey, sealed, "identity"), { code: "WRONG_PASSWORD_LOCAL" });
 * await assert.rejects(openVault(vaultKey, sealed, "notes"), { code: "WRONG_PASSWORD_LOCAL" });
 * ```
 */
export async function openVault(
  key: CryptoKey,
  sealed: Uint8Array,
  label: string,
): Promise<Uint8Array> {
  const aad = vaultAad(label);
  if (!(sealed instanceof Uint8Array) || sealed.length < HEADER_BYTES + TAG_BYTES) {
    throw cannotDecrypt("truncated");
  }
  if (sealed[0] !== VAULT_VERSION) throw cannotDecrypt(`unsupported version ${sealed[0]}`);
  const iv = sealed.subarray(1, HEADER_BYTES);
  try {
    const pt = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bufferSource(iv), additionalData: bufferSource(aad) },
      key,
      bufferSource(sealed.subarray(HEADER_BYTES)),
    );
    return new Uint8Array(pt);
  } catch (e) {
    throw cannotDecrypt("authentication failed", e);
  }
}
