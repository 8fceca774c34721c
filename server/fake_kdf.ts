/**
 * Fake client-KDF parameters for users that do not exist, so prelogin
 * reveals nothing: the salt is HMAC-SHA256(secret, username) cut to the real
 * salt length and the iteration count is what real accounts use. The secret
 * is generated once and kept in the database (`server_secrets`), so the
 * answer is the same across requests, restarts and every server of a cluster.
 *
 * @example
 * ```ts
 * import { FakeKdf } from "@fastchat/server/fake_kdf";
 * import type { Sql } from "postgres";
 * declare const sql: Sql;
 * const fake = new FakeKdf(sql, 600_000);
 * const { salt, iter } = await fake.paramsFor("nobody");
 * ```
 * @module
 */
import type { Sql } from "postgres";
import { MIN_SALT_BYTES } from "@fastchat/lib/crypto";
import { FastChatError } from "@fastchat/lib/errors";

const SECRET_NAME = "fake_kdf";
const SECRET_BYTES = 32;

/**
 * Derives stable fake KDF parameters from a database-held secret.
 *
 * @example
 * ```ts
 * import { FakeKdf } from "@fastchat/server/fake_kdf";
 * import type { Sql } from "postgres";
 * declare const sql: Sql;
 * const a = await new FakeKdf(sql, 600_000).paramsFor("ghost");
 * const b = await new FakeKdf(sql, 600_000).paramsFor("ghost"); // same salt
 * ```
 */
export class FakeKdf {
  readonly #sql: Sql;
  #key: Promise<CryptoKey> | null = null;

  constructor(sql: Sql, readonly iterations: number, readonly saltBytes: number = MIN_SALT_BYTES) {
    this.#sql = sql;
    if (saltBytes < 1 || saltBytes > 32) {
      throw new FastChatError("INVALID_CONFIG", "fake KDF salt must be 1..32 bytes");
    }
  }

  /** The fake `{ salt, iter }` of `user`. */
  async paramsFor(user: string): Promise<{ salt: Uint8Array; iter: number }> {
    const key = await this.#hmacKey();
    const mac = await crypto.subtle.sign(
      "HMAC",
      key,
      new TextEncoder().encode("kdf-salt\0" + user),
    );
    return { salt: new Uint8Array(mac, 0, this.saltBytes).slice(), iter: this.iterations };
  }

  #hmacKey(): Promise<CryptoKey> {
    this.#key ??= this.#loadKey().catch((e) => {
      this.#key = null; // a database hiccup must not poison every later prelogin
      throw e;
    });
    return this.#key;
  }

  async #loadKey(): Promise<CryptoKey> {
    const fresh = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
    // The first server to ask creates it; everyone (including that one) reads the winner.
    await this.#sql`insert into server_secrets (name, secret) values (${SECRET_NAME}, ${fresh})
      on conflict (name) do nothing`;
    const [row] = await this.#sql`select secret from server_secrets where name = ${SECRET_NAME}`;
    const secret = new Uint8Array(row.secret);
    return await crypto.subtle.importKey(
      "raw",
      secret,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
  }
}
