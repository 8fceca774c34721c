/**
 * Validation of LB public keys (raw 32-byte Ed25519) before a verifier
 * trusts them. WebCrypto accepts the small-order ("weak") points, under
 * which signatures can be forged for any message without a private key, so
 * they are refused here; such a key could only come from a corrupted or
 * tampered key store.
 *
 * @example
 * ```ts
 * import { checkLbPublicKey } from "@fastchat/lib/cluster/lb_public_key";
 * declare const lbPublicKey: Uint8Array; // e.g. read from the LB key store
 * const raw = checkLbPublicKey(lbPublicKey); // a copy, or throws INVALID_CONFIG
 * ```
 * @module
 */

import { FastChatError } from "../errors.ts";
import { isSmallOrderEd25519Key } from "../crypto/mod.ts";

export { isSmallOrderEd25519Key };

/**
 * Returns a copy of `raw` if it is a usable LB public key; throws
 * `INVALID_CONFIG` unless it is 32 bytes and not a small-order point.
 *
 * @example
 * ```ts
 * declare const publishedKey: Uint8Array;
 * const verifierKeys: Uint8Array[] = [];
 * verifierKeys.push(checkLbPublicKey(publishedKey));
 * ```
 */
export function checkLbPublicKey(raw: Uint8Array): Uint8Array<ArrayBuffer> {
  if (!(raw instanceof Uint8Array) || raw.length !== 32) {
    throw new FastChatError("INVALID_CONFIG", "LB public key: must be 32 bytes");
  }
  if (isSmallOrderEd25519Key(raw)) {
    throw new FastChatError("INVALID_CONFIG", "LB public key: weak (small-order) key");
  }
  return raw.slice();
}
