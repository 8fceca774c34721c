/**
 * Accounts and resume sessions: registration, login with the client's
 * authentication key (re-hashed with scrypt), resume tokens and logout.
 *
 * Login reveals nothing about which users exist: an unknown user gets fake
 * KDF parameters at prelogin (HMAC of a cluster-wide secret kept in the
 * database, so stable across requests, restarts and servers), and logging in
 * as one runs the same scrypt verification as a wrong password and fails with
 * the same `INVALID_CREDENTIALS`. Failures are throttled per (user, address)
 * and per address in the database ({@link LoginThrottle}), shared by all
 * servers.
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
import {
  fromBase64Url,
  importPublicKeys,
  PBKDF2_ITERATIONS,
  toBase64Url,
} from "@fastchat/lib/crypto";
import type { PasswordHasher } from "./password_hasher.ts";
import { FailureThrottle } from "./rate_limiter.ts";
import { LoginThrottle, type LoginThrottleOptions } from "./login_throttle.ts";
import { FakeKdf } from "./fake_kdf.ts";
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
  /** Failures allowed before delays start for resume tokens per address (default 5). */
  freeFailures?: number;
  /** Limits of the shared failed-login counters. */
  loginThrottle?: LoginThrottleOptions;
  /**
   * PBKDF2 iterations shown for unknown users at prelogin; set it to what
   * clients register with (default {@link PBKDF2_ITERATIONS}).
   */
  fakeKdfIterations?: number;
}

/** Failed logins (in this process) between two prunes of expired counters. */
const PRUNE_EVERY = 256;

/** The one reply to an unknown user or a wrong password. */
function invalidCredentials(): FastChatError {
  return new FastChatError("INVALID_CREDENTIALS", "wrong user name or password");
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
 * const grant = await accounts.resume("id.secret", "203.0.113.7"); // token, client address
 * console.log(grant.user);
 * ```
 */
export class AccountService {
  readonly #store: ChatStore;
  readonly #hasher: PasswordHasher;
  readonly #ttl: number;
  readonly #logins: LoginThrottle;
  readonly #fakeKdf: FakeKdf;
  readonly #byAddr: FailureThrottle;
  #failures = 0;
  readonly #keys = new Map<string, UserKeys>();

  constructor(store: ChatStore, hasher: PasswordHasher, opts: AccountServiceOptions = {}) {
    this.#store = store;
    this.#hasher = hasher;
    this.#ttl = opts.tokenTtlMs ?? 30 * 24 * 3600_000;
    this.#logins = new LoginThrottle(store.sql, opts.loginThrottle);
    this.#fakeKdf = new FakeKdf(store.sql, opts.fakeKdfIterations ?? PBKDF2_ITERATIONS);
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

  /**
   * The client KDF parameters of `user` (public; needed to derive the auth
   * key). Unknown users get stable fake ones of the same shape.
   */
  async prelogin(user: string): Promise<{ salt: Uint8Array; iter: number }> {
    const u = await this.#store.getUser(user);
    if (!u) return await this.#fakeKdf.paramsFor(user);
    return { salt: u.kdfSalt, iter: u.kdfIterations };
  }

  /**
   * Verifies the authentication key; an unknown user and a wrong key both
   * cost one scrypt run and fail with `INVALID_CREDENTIALS`. Failures count
   * per (user, address) and per address; over the limit, `RATE_LIMITED`.
   */
  async login(
    user: string,
    auth: Uint8Array,
    addr: string,
  ): Promise<
    SessionGrant & { keys: UserKeys; backup: Uint8Array; kdf: { salt: Uint8Array; iter: number } }
  > {
    await this.#logins.check(user, addr);
    const u = await this.#store.getUser(user);
    const ok = u
      ? await this.#hasher.verify(auth, {
        hash: u.authHash,
        salt: u.authSalt,
        params: u.authParams,
      })
      : await this.#hasher.verifyDummy(auth);
    if (!u || !ok) {
      await this.#logins.fail(user, addr);
      // Expired counters are deleted now and then so the table stays bounded.
      if (++this.#failures % PRUNE_EVERY === 0) await this.#logins.prune();
      throw invalidCredentials();
    }
    await this.#logins.succeed(user, addr);
    this.#keys.set(user, { enc: u.encKey, sign: u.signKey });
    const grant = await this.#grant(user);
    return {
      ...grant,
      keys: { enc: u.encKey, sign: u.signKey },
      backup: u.keyBackup,
      kdf: { salt: u.kdfSalt, iter: u.kdfIterations },
    };
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
