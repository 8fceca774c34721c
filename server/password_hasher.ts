/**
 * Server-side hashing of the client's authentication key with scrypt
 * (memory-hard, per-user random salt). The client already stretched the
 * password with PBKDF2; this second hash means a stolen database still
 * cannot be replayed as credentials.
 *
 * @example
 * ```ts
 * import { PasswordHasher } from "@fastchat/server/password_hasher";
 * const hasher = new PasswordHasher();
 * const h = await hasher.hash(new Uint8Array(32));
 * console.log(await hasher.verify(new Uint8Array(32), h)); // true
 * ```
 * @module
 */
import { scrypt, timingSafeEqual } from "node:crypto";
import { FastChatError } from "@fastchat/lib/errors";
import { defaultConcurrency, Semaphore } from "@fastchat/lib/semaphore";

/** scrypt cost parameters. */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** A stored hash with its salt and encoded parameters. */
export interface PasswordHash {
  hash: Uint8Array;
  salt: Uint8Array;
  params: string;
}

/** Default cost: N=2^15, r=8, p=1 (32 MiB, tens of milliseconds). */
export const DEFAULT_SCRYPT: ScryptParams = { N: 32768, r: 8, p: 1 };

function run(key: Uint8Array, salt: Uint8Array, p: ScryptParams): Promise<Uint8Array> {
  return new Promise((resolve, reject) =>
    scrypt(key, salt, 32, { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + 1024 * 1024 }, (
      err,
      out,
    ) => err ? reject(err) : resolve(new Uint8Array(out)))
  );
}

/** Encodes params as `scrypt:N=…,r=…,p=…`. */
export function formatParams(p: ScryptParams): string {
  return `scrypt:N=${p.N},r=${p.r},p=${p.p}`;
}

/** Parses {@link formatParams} output; `INVALID_CONFIG` if malformed. */
export function parseParams(s: string): ScryptParams {
  const m = /^scrypt:N=(\d+),r=(\d+),p=(\d+)$/.exec(s);
  if (!m) throw new FastChatError("INVALID_CONFIG", `unknown password hash parameters ${s}`);
  return { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
}

/**
 * Hashes and verifies authentication keys.
 *
 * @example
 * ```ts
 * import { PasswordHasher } from "@fastchat/server/password_hasher";
 * const fast = new PasswordHasher({ N: 1024, r: 8, p: 1 }); // tests only
 * ```
 */
export class PasswordHasher {
  readonly #slots: Semaphore;
  readonly #dummySalt = crypto.getRandomValues(new Uint8Array(16));
  readonly #dummyHash = crypto.getRandomValues(new Uint8Array(32));

  /**
   * At most `concurrency` hashes run at once (default: one per core; each
   * holds 128·N·r bytes, 32 MiB at the default N) and `maxWaiting` wait;
   * past that, requests fail fast with `RATE_LIMITED` instead of piling up
   * threads and memory.
   */
  constructor(
    readonly params: ScryptParams = DEFAULT_SCRYPT,
    opts: { concurrency?: number; maxWaiting?: number } = {},
  ) {
    if (params.N < 1024 || (params.N & (params.N - 1)) !== 0) {
      throw new FastChatError("INVALID_CONFIG", "scrypt N must be a power of two >= 1024");
    }
    this.#slots = new Semaphore(opts.concurrency ?? defaultConcurrency(), opts.maxWaiting ?? 512);
  }

  /** Hashes `key` with a fresh 16-byte salt. */
  async hash(key: Uint8Array): Promise<PasswordHash> {
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const hash = await this.#slots.run(() => run(key, salt, this.params));
    return { hash, salt, params: formatParams(this.params) };
  }

  /**
   * Does the work of a failed {@link verify} (one scrypt run at this
   * hasher's cost, through the same slots) and returns false: used when the
   * user does not exist, so that case costs what a wrong password costs.
   */
  async verifyDummy(key: Uint8Array): Promise<boolean> {
    const out = await this.#slots.run(() => run(key, this.#dummySalt, this.params));
    // Compare like verify does so both paths do the same work.
    return out.length === this.#dummyHash.length && timingSafeEqual(out, this.#dummyHash) &&
      false;
  }

  /** Verifies `key` against a stored hash in constant time. */
  async verify(key: Uint8Array, stored: PasswordHash): Promise<boolean> {
    const params = parseParams(stored.params);
    const out = await this.#slots.run(() => run(key, stored.salt, params));
    return out.length === stored.hash.length && timingSafeEqual(out, stored.hash);
  }
}
