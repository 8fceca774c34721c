/**
 * Client-side password key derivation.
 *
 * `PBKDF2-SHA256(password, salt, iterations)` yields a 32-byte master
 * secret that never leaves this module; HKDF-SHA256 then splits it into
 * two independent keys:
 *
 * - `authKey` (info `"fastchat/v1/auth"`): 32 bytes sent to the server in
 *   place of the password. The server must still hash it before storing.
 * - `vaultKey` (info `"fastchat/v1/vault"`): a non-extractable AES-256-GCM
 *   `CryptoKey` that encrypts the identity backup and local files. The
 *   server never sees it and cannot derive it from `authKey`.
 *
 * The password is NFC-normalized first so the same password typed through
 * different input methods derives the same keys.
 *
 * @example
 * ```ts
 * import { derivePasswordKeys, newKdfSalt } from "@fastchat/lib/crypto";
 * const salt = newKdfSalt();
 * const { authKey, vaultKey } = await derivePasswordKeys("correct horse", salt);
 * ```
 * @module
 */

import { FastChatError } from "../errors.ts";
import { heavyCrypto } from "./heavy.ts";
import { bufferSource, randomBytes, utf8Encode } from "./bytes.ts";

/**
 * Default PBKDF2-SHA256 iteration count (OWASP 2023 recommendation).
 *
 * @example
 * ```ts
 * const salt = newKdfSalt();
 * const keys = await derivePasswordKeys("pw", salt, PBKDF2_ITERATIONS); // same as omitting it
 * ```
 */
export const PBKDF2_ITERATIONS = 600_000;
/**
 * Smallest iteration count accepted without `allowWeak`.
 *
 * @example
 * ```ts
 * const serverIterations = 1000; // e.g. from a login challenge
 * const weak = serverIterations < MIN_PBKDF2_ITERATIONS; // true: refused unless allowWeak
 * ```
 */
export const MIN_PBKDF2_ITERATIONS = 100_000;
/**
 * Largest iteration count accepted (caps the work a hostile server can demand).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * await assert.rejects(derivePasswordKeys("pw", newKdfSalt(), MAX_PBKDF2_ITERATIONS + 1), {
 *   code: "BAD_REQUEST",
 * });
 * ```
 */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;
/**
 * Minimum salt length in bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(newKdfSalt().length, MIN_SALT_BYTES); // 16
 * ```
 */
export const MIN_SALT_BYTES = 16;
/**
 * HKDF info for the server authentication key.
 *
 * @example
 * ```ts
 * const master = crypto.getRandomValues(new Uint8Array(32));
 * const authKey = await deriveSubkey(master, AUTH_KEY_INFO);
 * ```
 */
export const AUTH_KEY_INFO = "fastchat/v1/auth";
/**
 * HKDF info for the local vault key.
 *
 * @example
 * ```ts
 * const master = crypto.getRandomValues(new Uint8Array(32));
 * const vaultRaw = await deriveSubkey(master, VAULT_KEY_INFO);
 * ```
 */
export const VAULT_KEY_INFO = "fastchat/v1/vault";

/**
 * Keys derived from a password by {@link derivePasswordKeys}.
 *
 * @example
 * ```ts
 * const keys: PasswordKeys = await derivePasswordKeys("pw", newKdfSalt());
 * ```
 */
export interface PasswordKeys {
  /** 32 bytes proving knowledge of the password to the server. */
  authKey: Uint8Array;
  /** Non-extractable AES-GCM-256 key for the vault (never sent anywhere). */
  vaultKey: CryptoKey;
}

/**
 * Options for {@link derivePasswordKeys}.
 *
 * @example
 * ```ts
 * const opts: DerivePasswordOptions = { allowWeak: true }; // tests only
 * ```
 */
export interface DerivePasswordOptions {
  /**
   * Accept fewer than {@link MIN_PBKDF2_ITERATIONS} iterations. Only for
   * tests and benchmarks, where 600k iterations per call would be too slow;
   * never set it for real accounts.
   */
  allowWeak?: boolean;
}

/**
 * Returns a fresh 16-byte random salt for {@link derivePasswordKeys}.
 *
 * @example
 * ```ts
 * const salt = newKdfSalt(); // store next to the account, not secret
 * ```
 */
export function newKdfSalt(): Uint8Array<ArrayBuffer> {
  return randomBytes(MIN_SALT_BYTES);
}

/**
 * HKDF-SHA256 (empty salt) of a uniformly random `master` secret with the
 * given `info`; returns `length` bytes (default 32). Different `info`
 * strings give computationally independent keys.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const master = crypto.getRandomValues(new Uint8Array(32)); // uniformly random, >= 16 bytes
 * const auth = await deriveSubkey(master, "fastchat/v1/auth");
 * const vault = await deriveSubkey(master, "fastchat/v1/vault");
 * assert.equal(auth.length, 32);
 * assert.notDeepEqual(auth, vault); // independent keys per info string
 * ```
 */
export async function deriveSubkey(
  master: Uint8Array,
  info: string,
  length: number = 32,
): Promise<Uint8Array> {
  if (!(master instanceof Uint8Array) || master.length < 16) {
    throw new FastChatError("BAD_REQUEST", "master secret must be at least 16 bytes");
  }
  if (!Number.isInteger(length) || length < 1 || length > 255 * 32) {
    throw new FastChatError("BAD_REQUEST", `invalid HKDF output length: ${length}`);
  }
  const ikm = await crypto.subtle.importKey("raw", bufferSource(master), "HKDF", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(0),
      info: bufferSource(utf8Encode(info)),
    },
    ikm,
    length * 8,
  );
  return new Uint8Array(bits);
}

function checkIterations(iterations: number, allowWeak: boolean): void {
  if (!Number.isSafeInteger(iterations) || iterations < 1) {
    throw new FastChatError("BAD_REQUEST", `invalid PBKDF2 iteration count: ${iterations}`);
  }
  if (iterations > MAX_PBKDF2_ITERATIONS) {
    throw new FastChatError("BAD_REQUEST", `PBKDF2 iteration count too high: ${iterations}`);
  }
  if (iterations < MIN_PBKDF2_ITERATIONS && !allowWeak) {
    throw new FastChatError(
      "BAD_REQUEST",
      `PBKDF2 iteration count too low: ${iterations} < ${MIN_PBKDF2_ITERATIONS}`,
      { minimum: MIN_PBKDF2_ITERATIONS },
    );
  }
}

/**
 * Derives the server `authKey` and the local `vaultKey` from a password.
 * Takes ~100 ms at the default {@link PBKDF2_ITERATIONS}. Throws
 * `FastChatError("BAD_REQUEST")` for a salt shorter than 16 bytes or an
 * iteration count below 100 000 (unless `options.allowWeak`) or above
 * 10 000 000.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const salt = newKdfSalt();
 * const { authKey, vaultKey } = await derivePasswordKeys("pw", salt); // 600 000 iterations
 * const fast = await derivePasswordKeys("pw", salt, 1000, { allowWeak: true }); // tests only
 * const again = await derivePasswordKeys("pw", salt, 1000, { allowWeak: true });
 * assert.deepEqual(again.authKey, fast.authKey); // same password, salt and count: same keys
 * ```
 */
export async function derivePasswordKeys(
  password: string,
  salt: Uint8Array,
  iterations: number = PBKDF2_ITERATIONS,
  options: DerivePasswordOptions = {},
): Promise<PasswordKeys> {
  if (typeof password !== "string") {
    throw new FastChatError("BAD_REQUEST", "password must be a string");
  }
  if (!(salt instanceof Uint8Array) || salt.length < MIN_SALT_BYTES) {
    throw new FastChatError("BAD_REQUEST", `salt must be at least ${MIN_SALT_BYTES} bytes`);
  }
  checkIterations(iterations, options.allowWeak === true);
  const pw = await crypto.subtle.importKey(
    "raw",
    bufferSource(utf8Encode(password.normalize("NFC"))),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const master = new Uint8Array(
    await heavyCrypto(() =>
      crypto.subtle.deriveBits(
        { name: "PBKDF2", hash: "SHA-256", salt: bufferSource(salt), iterations },
        pw,
        256,
      )
    ),
  );
  try {
    const authKey = await deriveSubkey(master, AUTH_KEY_INFO);
    const vaultRaw = await deriveSubkey(master, VAULT_KEY_INFO);
    const vaultKey = await crypto.subtle.importKey(
      "raw",
      bufferSource(vaultRaw),
      { name: "AES-GCM" },
      false,
      [
        "encrypt",
        "decrypt",
      ],
    );
    vaultRaw.fill(0);
    return { authKey, vaultKey };
  } finally {
    master.fill(0);
  }
}
