/**
 * Human-comparable safety numbers and short key fingerprints.
 *
 * Each side's 30 digits come from `SHA-512` iterated
 * {@link SAFETY_NUMBER_ITERATIONS} times over its username and public keys
 * (as in Signal's numeric fingerprints; the iterations make grinding for a
 * look-alike key more expensive). The two halves are ordered by username,
 * so both users see the same 60 digits, shown as 12 groups of 5.
 * Uses synchronous `node:crypto` hashing (~15–20 ms per side here; the
 * same loop through `crypto.subtle` would pay an await per iteration).
 *
 * @example
 * ```ts
 * import { exportPublicKeys, generateIdentity, safetyNumber } from "@fastchat/lib/crypto";
 * const alicePub = await exportPublicKeys(await generateIdentity());
 * const bobPub = await exportPublicKeys(await generateIdentity());
 * const sn = await safetyNumber({ user: "alice", keys: alicePub }, { user: "bob", keys: bobPub });
 * // "12345 67890 ... " (12 groups)
 * ```
 * @module
 */

import { createHash } from "node:crypto";
import { toHex } from "./bytes.ts";
import { canonicalBytes } from "./codec.ts";
import type { PublicKeys } from "./identity.ts";

/**
 * SHA-512 iterations per side (Signal uses 5200; 4096 keeps both sides well under 50 ms).
 *
 * @example
 * ```ts
 * // each side costs SAFETY_NUMBER_ITERATIONS SHA-512 calls
 * ```
 */
export const SAFETY_NUMBER_ITERATIONS = 4096;

/**
 * A user and their public keys, as input to {@link safetyNumber}.
 *
 * @example
 * ```ts
 * import { exportPublicKeys, generateIdentity } from "@fastchat/lib/crypto";
 * const alice = await generateIdentity();
 * const side: SafetyNumberSide = { user: "alice", keys: await exportPublicKeys(alice) };
 * ```
 */
export interface SafetyNumberSide {
  /** Username. */
  user: string;
  /** The user's public keys. */
  keys: PublicKeys;
}

function sha512(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("sha512");
  for (const p of parts) h.update(p);
  return h.digest();
}

/** 30 decimal digits: 6 chunks of 5 bytes, each as a big-endian uint40 mod 100000. */
function sideDigits(side: SafetyNumberSide): string {
  const material = canonicalBytes("fastchat/safety/v1", [side.user, side.keys.enc, side.keys.sign]);
  const keyDigest = sha512(material);
  let hash = sha512(material);
  for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) hash = sha512(hash, keyDigest);
  let out = "";
  for (let c = 0; c < 6; c++) {
    let n = 0;
    for (let i = 0; i < 5; i++) n = n * 256 + hash[c * 5 + i];
    out += String(n % 100000).padStart(5, "0");
  }
  return out;
}

/**
 * The 60-digit safety number of a conversation between `a` and `b`,
 * formatted as 12 space-separated groups of 5 digits. Symmetric:
 * `safetyNumber(a, b) === safetyNumber(b, a)`; it changes whenever either
 * user's encryption or signing key (or username) changes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exportPublicKeys, generateIdentity } from "@fastchat/lib/crypto";
 * const alicePub = await exportPublicKeys(await generateIdentity());
 * const bobPub = await exportPublicKeys(await generateIdentity());
 * const sn = await safetyNumber({ user: "alice", keys: alicePub }, { user: "bob", keys: bobPub });
 * const seenByBob = await safetyNumber({ user: "bob", keys: bobPub }, { user: "alice", keys: alicePub });
 * assert.equal(seenByBob, sn);
 * ```
 */
export function safetyNumber(a: SafetyNumberSide, b: SafetyNumberSide): Promise<string> {
  try {
    const da = sideDigits(a);
    const db = sideDigits(b);
    const aFirst = a.user < b.user || (a.user === b.user && da <= db);
    const all = aFirst ? da + db : db + da;
    return Promise.resolve(all.match(/\d{5}/g)!.join(" "));
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * A short fingerprint of a user's public keys for "key changed" warnings:
 * the first 16 bytes of SHA-256 over both keys, as 32 lowercase hex digits.
 *
 * @example
 * ```ts
 * import { exportPublicKeys, generateIdentity } from "@fastchat/lib/crypto";
 * const storedFingerprint = await keyFingerprint(await exportPublicKeys(await generateIdentity()));
 * const newKeys = await exportPublicKeys(await generateIdentity()); // bob re-registered
 * const changed = await keyFingerprint(newKeys) !== storedFingerprint; // true: warn the user
 * ```
 */
export function keyFingerprint(keys: PublicKeys): Promise<string> {
  try {
    const material = canonicalBytes("fastchat/keyfp/v1", [keys.enc, keys.sign]);
    return Promise.resolve(
      toHex(createHash("sha256").update(material).digest().subarray(0, 16)),
    );
  } catch (e) {
    return Promise.reject(e);
  }
}
