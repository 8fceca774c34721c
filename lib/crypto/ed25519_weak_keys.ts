/**
 * Small-order ("weak") Ed25519 public keys. WebCrypto accepts them, and
 * signatures under them verify for arbitrary messages without any private
 * key, so FastChat refuses them wherever it trusts a signing key.
 *
 * @example
 * ```ts
 * import { isSmallOrderEd25519Key } from "@fastchat/lib/crypto";
 * isSmallOrderEd25519Key(new Uint8Array(32)); // true
 * ```
 * @module
 */
import { toHex } from "./bytes.ts";

// Small-order Ed25519 points as listed by libsodium, compared with the sign
// bit cleared (so the encodings with the top bit set are caught too).
const FF = "ff".repeat(30);
const SMALL_ORDER: ReadonlySet<string> = new Set([
  "00".repeat(32),
  "01" + "00".repeat(31),
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "ec" + FF + "7f",
  "ed" + FF + "7f",
  "ee" + FF + "7f",
]);

/**
 * Whether a 32-byte Ed25519 public key is a small-order point.
 *
 * @example
 * ```ts
 * isSmallOrderEd25519Key(new Uint8Array(32)); // true
 * ```
 */
export function isSmallOrderEd25519Key(raw: Uint8Array): boolean {
  if (raw.length !== 32) return false;
  const masked = raw.slice();
  masked[31] &= 0x7f;
  return SMALL_ORDER.has(toHex(masked));
}
