/**
 * Identities for load tests that register many users: the first `size`
 * requests generate fresh identities (RSA-OAEP-2048 + Ed25519, ~0.2 s each
 * here), later ones reuse them round-robin. Messages stay end-to-end
 * encrypted exactly as usual (users sharing a key pair still each unwrap
 * their own envelopes); only key generation is amortized, so 10,000 users
 * register in minutes instead of an hour of RSA key generation.
 *
 * @example
 * ```ts
 * import { IdentityPool } from "./identity_pool.ts";
 * const pool = new IdentityPool(4);
 * const a = await pool.next();
 * ```
 * @module
 */
import { generateIdentity, type Identity } from "@fastchat/lib/crypto";

/**
 * A bounded, lazily filled pool of identities.
 *
 * @example
 * ```ts
 * import { IdentityPool } from "./identity_pool.ts";
 * const pool = new IdentityPool(2);
 * const identity = await pool.next();
 * ```
 */
export class IdentityPool {
  readonly #made: Promise<Identity>[] = [];
  #turn = 0;

  /** `size` ≥ 1 distinct identities at most; `make` generates one (default: a fresh identity). */
  constructor(
    readonly size: number,
    private readonly make: () => Promise<Identity> = generateIdentity,
  ) {
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new RangeError(`identity pool size must be a positive integer, got ${size}`);
    }
  }

  /** Identities generated so far. */
  get generated(): number {
    return this.#made.length;
  }

  /** The next identity: a new one while the pool fills, then reused round-robin. */
  next(): Promise<Identity> {
    if (this.#made.length < this.size) {
      const p = this.make();
      this.#made.push(p);
      // A failed generation is retried by the next caller, not handed out forever.
      p.catch(() => {
        const i = this.#made.indexOf(p);
        if (i >= 0) this.#made.splice(i, 1);
      });
      return p;
    }
    return this.#made[this.#turn++ % this.size];
  }
}
