/**
 * Accounts and resume sessions: registration, login with the client's
 * authentication key (re-hashed with scrypt), resume tokens and logout, with
 * failure throttling per account and per address.
 *
 * Resume tokens are `<id>.<secret>` with a 256-bit random secret; the store
 * keeps only SHA-256(secret), compared in constant time.
 *
 * @example
 * ```ts
 * import { AccountService } from "@fastchat/server/accounts";
 * import { PasswordHasher } from "@fastchat/server/password_hasher";
 * import { ChatStore } from "@fastchat/server/store";
 * declare const store: ChatStore;
 * const accounts = new AccountService(store, new PasswordHasher());
 * const kdf = await accounts.prelogin("alice");
 * ```
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import { FastChatError } from "@fastchat/lib/errors";
import type { ClientFrameOf } from "@fastchat/lib/protocol";
import { fromBase64Url, importPublicKeys, toBase64Url } from "@fastchat/lib/crypto";
import type { PasswordHasher } from "./password_hasher.ts";
import { FailureThrottle } from "./rate_limiter.ts";
import type { ChatStore } from "./store.ts";

/** A logged-in identity and its resume token. */
export interface SessionGrant {
  user: string;
  sessionId: string;
  token?: string;
  expires: number;
}

/** Public keys of a user. */
export interface UserKeys {
  enc: Uint8Array;
  sign: Uint8Array;
}

/** Options of {@link AccountService}. */
export interface AccountServiceOptions {
  /** Resume token lifetime (default 30 days). */
  tokenTtlMs?: number;
  /** Failures allowed before delays start (default 5). */
  freeFailures?: number;
}

async function sha256(b: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", b as BufferSource));
}

/** Refuses anything that is not a valid RSA-OAEP (>= 2048 bits) + non-weak Ed25519 pair. */
async function validatePublicKeys(k: UserKeys): Promise<void> {
  try {
    await importPublicKeys(k);
  } catch (e) {
    throw new FastChatError("BAD_REQUEST", `invalid public key: ${(e as Error).message}`, {
      field: "keys",
    });
  }
}

/**
 * Registration, login, resume and logout.
 *
 * @example
 * ```ts
 * import { AccountService } from "@fastchat/server/accounts";
 * declare const accounts: AccountService;
 * const grant = await accounts.resume("id.secret");
 * console.log(grant.user);
 * ```
 */
export class AccountService {
  readonly #store: ChatStore;
  readonly #hasher: PasswordHasher;
  readonly #ttl: number;
  readonly #byUser: FailureThrottle;
  readonly #byAddr: FailureThrottle;
  readonly #keys = new Map<string, UserKeys>();

  constructor(store: ChatStore, hasher: PasswordHasher, opts: AccountServiceOptions = {}) {
    this.#store = store;
    this.#hasher = hasher;
    this.#ttl = opts.tokenTtlMs ?? 30 * 24 * 3600_000;
    this.#byUser = new FailureThrottle(opts.freeFailures ?? 5);
    this.#byAddr = new FailureThrottle((opts.freeFailures ?? 5) * 4);
  }

  /** Creates an account and logs it in. */
  async register(req: ClientFrameOf<"register">): Promise<SessionGrant> {
    await validatePublicKeys(req.keys);
    const h = await this.#hasher.hash(req.auth);
    await this.#store.createUser({
      username: req.user,
      authHash: h.hash,
      authSalt: h.salt,
      authParams: h.params,
      kdfSalt: req.kdf.salt,
      kdfIterations: req.kdf.iter,
      encKey: req.keys.enc,
      signKey: req.keys.sign,
      keyBackup: req.backup,
    });
    return await this.#grant(req.user);
  }

  /** The client KDF parameters of `user` (public; needed to derive the auth key). */
  async prelogin(user: string): Promise<{ salt: Uint8Array; iter: number }> {
    const u = await this.#store.getUser(user);
    if (!u) throw new FastChatError("UNKNOWN_USER", `no such user: ${user}`);
    return { salt: u.kdfSalt, iter: u.kdfIterations };
  }

  /** Verifies the authentication key; throttles repeated failures. */
  async login(
    user: string,
    auth: Uint8Array,
    addr: string,
  ): Promise<
    SessionGrant & { keys: UserKeys; backup: Uint8Array; kdf: { salt: Uint8Array; iter: number } }
  > {
    this.#checkThrottle(user, addr);
    const u = await this.#store.getUser(user);
    if (!u) {
      this.#byAddr.fail(addr);
      throw new FastChatError("UNKNOWN_USER", `no such user: ${user}`);
    }
    const ok = await this.#hasher.verify(auth, {
      hash: u.authHash,
      salt: u.authSalt,
      params: u.authParams,
    });
    if (!ok) {
      const delay = Math.max(this.#byUser.fail(user), this.#byAddr.fail(addr));
      throw new FastChatError(
        "WRONG_PASSWORD",
        "wrong password",
        delay ? { retryMs: delay } : undefined,
      );
    }
    this.#byUser.succeed(user);
    this.#keys.set(user, { enc: u.encKey, sign: u.signKey });
    const grant = await this.#grant(user);
    return {
      ...grant,
      keys: { enc: u.encKey, sign: u.signKey },
      backup: u.keyBackup,
      kdf: { salt: u.kdfSalt, iter: u.kdfIterations },
    };
  }

  #checkThrottle(user: string, addr: string): void {
    const wait = Math.max(this.#byUser.blockedFor(user), this.#byAddr.blockedFor(addr));
    if (wait > 0) {
      throw new FastChatError(
        "RATE_LIMITED",
        `too many failed logins; retry in ${Math.ceil(wait / 1000)} s`,
        {
          retryMs: wait,
        },
      );
    }
  }

  async #grant(user: string): Promise<SessionGrant> {
    const sessionId = toBase64Url(crypto.getRandomValues(new Uint8Array(12)));
    const secret = crypto.getRandomValues(new Uint8Array(32));
    const expires = Date.now() + this.#ttl;
    await this.#store.createSession({
      id: sessionId,
      username: user,
      secretHash: await sha256(secret),
      expiresAt: new Date(expires),
    });
    return { user, sessionId, token: `${sessionId}.${toBase64Url(secret)}`, expires };
  }

  /** Resumes a session from a token; `INVALID_TOKEN` if unknown, expired, revoked or forged. */
  async resume(token: string, addr: string): Promise<SessionGrant> {
    const wait = this.#byAddr.blockedFor(addr);
    if (wait > 0) {
      throw new FastChatError("RATE_LIMITED", "too many failures", { retryMs: wait });
    }
    const dot = token.indexOf(".");
    const s = dot > 0 ? await this.#store.getSession(token.slice(0, dot)) : null;
    let ok = false;
    if (s) {
      let secret: Uint8Array;
      try {
        secret = fromBase64Url(token.slice(dot + 1));
      } catch {
        secret = new Uint8Array(0);
      }
      const h = await sha256(secret);
      ok = h.length === s.secretHash.length && timingSafeEqual(h, s.secretHash);
    }
    if (!s || !ok) {
      this.#byAddr.fail(addr);
      throw new FastChatError("INVALID_TOKEN", "resume token is invalid, expired or revoked");
    }
    return { user: s.username, sessionId: s.id, expires: s.expiresAt.getTime() };
  }

  /** Revokes a session. */
  async logout(sessionId: string): Promise<void> {
    await this.#store.deleteSession(sessionId);
  }

  /** Public keys of `user` (cached). */
  async publicKeys(user: string): Promise<UserKeys> {
    const cached = this.#keys.get(user);
    if (cached) return cached;
    const u = await this.#store.getUser(user);
    if (!u) throw new FastChatError("UNKNOWN_USER", `no such user: ${user}`);
    if (this.#keys.size > 100_000) this.#keys.clear();
    const keys = { enc: u.encKey, sign: u.signKey };
    this.#keys.set(user, keys);
    return keys;
  }

  /** Whether `user` is known to exist without asking the store. */
  isKnown(user: string): boolean {
    return this.#keys.has(user);
  }

  /** Whether `user` exists (cached when it does). */
  async exists(user: string): Promise<boolean> {
    if (this.#keys.has(user)) return true;
    try {
      await this.publicKeys(user);
      return true;
    } catch (e) {
      if (e instanceof FastChatError && e.code === "UNKNOWN_USER") return false;
      throw e;
    }
  }
}
