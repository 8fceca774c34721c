/**
 * Registration and login, on the client: the password is stretched here
 * (PBKDF2) into an authentication key, which is all the server sees, and a
 * vault key that seals the identity and the local files. Registration makes
 * the identity and uploads only its public keys and a sealed backup; login
 * refuses KDF settings weaker than the protocol's floor or than the ones
 * this home remembers (before deriving anything), and opens the local
 * identity, or the server's backup in a fresh home or when the local copy is
 * stale.
 *
 * @example
 * ```ts
 * import { LoginFlow } from "@fastchat/client/login_flow";
 * import { SessionConnector } from "@fastchat/client/session_connector";
 * declare const link: SessionConnector;
 * const flow = new LoginFlow({ link, homeRoot: "/tmp/fc-home", emit: console.log });
 * const session = await flow.login("alice", "a long passphrase");
 * console.log(session.user, session.token.length);
 * ```
 * @module
 */
import {
  derivePasswordKeys,
  exportPublicKeys,
  generateIdentity,
  type Identity,
  newKdfSalt,
  openIdentity,
  PBKDF2_ITERATIONS,
  type PublicKeys,
  sealIdentity,
} from "@fastchat/lib/crypto";
import { FastChatError } from "@fastchat/lib/errors";
import { USERNAME_RE } from "@fastchat/lib/protocol";
import type { ClientEvent } from "./events.ts";
import type { KeyState } from "./key_manager.ts";
import type { ServerConnection } from "./server_connection.ts";
import { defaultHomeRoot, UserHome } from "./user_home.ts";

/** Lowest PBKDF2 iteration count a client accepts (the protocol's floor). */
export const MIN_KDF_ITERATIONS = 100_000;

/** How the flow reaches the server (a `SessionConnector`). */
export interface LoginLink {
  /** A connection whose load-balancer ticket (if any) is unused. */
  authConnection(): Promise<ServerConnection>;
  /** The ticket for the authenticating request to carry (once). */
  takeTicket(): { ticket?: string };
}

/** Options of a {@link LoginFlow}. */
export interface LoginFlowOptions {
  link: LoginLink;
  /** Home root; the user's files go to `<root>/<user>` (default `~/.fastchat`). */
  homeRoot?: string;
  /** PBKDF2 iterations for new accounts (default 600,000; at least 100,000). */
  kdfIterations?: number;
  /** Makes the identity of a new account (default: a fresh one). */
  newIdentity?: () => Promise<Identity>;
  /** Reports what went wrong without failing the login. */
  emit: (e: ClientEvent) => void;
}

/** A logged-in user: what the rest of the client works with. */
export interface LoggedIn {
  user: string;
  /** The resume token. */
  token: string;
  identity: Identity;
  publicKeys: PublicKeys;
  vaultKey: CryptoKey;
  home: UserHome;
  /** The saved key state, or null (new account, fresh home, or unreadable). */
  state: KeyState | null;
}

/**
 * Register and login on one link.
 *
 * @example
 * ```ts
 * import { LoginFlow } from "@fastchat/client/login_flow";
 * declare const flow: LoginFlow;
 * const s = await flow.register("carol", "a long passphrase");
 * console.log(s.state); // null: a new account has no saved state
 * ```
 */
export class LoginFlow {
  readonly #o: LoginFlowOptions;

  constructor(opts: LoginFlowOptions) {
    this.#o = opts;
  }

  #home(user: string): UserHome {
    return UserHome.at(this.#o.homeRoot ?? defaultHomeRoot(), user);
  }

  /** Creates an account: keys are generated here and only public keys and a sealed backup leave. */
  async register(user: string, password: string): Promise<LoggedIn> {
    checkUsername(user);
    const iterations = this.#o.kdfIterations ?? PBKDF2_ITERATIONS;
    const salt = newKdfSalt();
    const [pk, identity] = await Promise.all([
      derivePasswordKeys(password, salt, iterations),
      (this.#o.newIdentity ?? generateIdentity)(),
    ]);
    const publicKeys = await exportPublicKeys(identity);
    const backup = await sealIdentity(identity, pk.vaultKey);
    const conn = await this.#o.link.authConnection();
    const ok = await conn.request({
      t: "register",
      user,
      auth: pk.authKey,
      kdf: { salt, iter: iterations },
      keys: publicKeys,
      backup,
      ...this.#o.link.takeTicket(),
    });
    const home = this.#home(user);
    await home.writeIdentity(backup);
    await home.writeKdf({ salt, iter: iterations });
    return {
      user,
      token: ok.token!,
      identity,
      publicKeys,
      vaultKey: pk.vaultKey,
      home,
      state: null,
    };
  }

  /** Logs in; in a fresh home the keys are restored from the server-side sealed backup. */
  async login(user: string, password: string): Promise<LoggedIn> {
    checkUsername(user);
    const conn = await this.#o.link.authConnection();
    const pre = await conn.request({ t: "prelogin", user });
    const home = this.#home(user);
    const remembered = await home.readKdf();
    checkKdf(pre.kdf, remembered);
    const pk = await derivePasswordKeys(password, pre.kdf!.salt, pre.kdf!.iter);
    const ok = await conn.request({
      t: "login",
      user,
      auth: pk.authKey,
      ...this.#o.link.takeTicket(),
    });
    if (!remembered) await home.writeKdf(pre.kdf!);
    let mine = await this.#localIdentity(home, pk.vaultKey, ok.keys!);
    if (!mine) {
      const identity = await openIdentity(ok.backup!, pk.vaultKey);
      mine = { identity, publicKeys: await exportPublicKeys(identity) };
      await home.writeIdentity(ok.backup!);
    }
    return {
      user,
      token: ok.token!,
      ...mine,
      vaultKey: pk.vaultKey,
      home,
      state: await this.#savedState(home, pk.vaultKey),
    };
  }

  /**
   * The identity this home holds if it opens and matches the account's
   * current public keys; else null, and the server's backup replaces it.
   */
  async #localIdentity(
    home: UserHome,
    vaultKey: CryptoKey,
    current: PublicKeys,
  ): Promise<{ identity: Identity; publicKeys: PublicKeys } | null> {
    const local = await home.readIdentity();
    if (!local) return null;
    let identity: Identity;
    try {
      identity = await openIdentity(local, vaultKey);
    } catch {
      // Sealed under an old password (or damaged): harmless, the account's
      // authoritative copy is the server's backup, which the caller opens
      // and writes over this one (a wrong password never gets this far).
      return null;
    }
    const publicKeys = await exportPublicKeys(identity);
    if (!bytesEqual(publicKeys.enc, current.enc) || !bytesEqual(publicKeys.sign, current.sign)) {
      return null; // stale local keys: the server's backup is authoritative
    }
    return { identity, publicKeys };
  }

  /** The saved key state; null, reported, when it does not open. */
  async #savedState(home: UserHome, vaultKey: CryptoKey): Promise<KeyState | null> {
    try {
      return await home.readState<KeyState>(vaultKey);
    } catch (e) {
      // Pinned contact keys are lost: the user should know they start over.
      const err = FastChatError.from(e);
      this.#o.emit({
        event: "error",
        code: err.code,
        message: `local key state unreadable (${err.message}): contact keys will be pinned anew`,
      });
      return null;
    }
  }
}

/**
 * Throws `INVALID_USERNAME` unless `user` is 1-32 of a-z 0-9 _ . -
 *
 * @example
 * ```ts
 * import { checkUsername } from "@fastchat/client/login_flow";
 * checkUsername("alice"); // ok
 * ```
 */
export function checkUsername(user: string): void {
  if (!USERNAME_RE.test(user)) {
    throw new FastChatError(
      "INVALID_USERNAME",
      `invalid username ${JSON.stringify(user)}: use 1-32 of a-z 0-9 _ . -`,
    );
  }
}

/**
 * Refuses prelogin KDF settings weaker than the floor or different from the
 * ones remembered for this account (`KDF_DOWNGRADE`), before the password is
 * derived with them.
 *
 * @example
 * ```ts
 * import { checkKdf } from "@fastchat/client/login_flow";
 * const salt = new Uint8Array(16);
 * checkKdf({ salt, iter: 600_000 }, { salt, iter: 600_000 }); // ok
 * ```
 */
export function checkKdf(
  kdf: { salt: Uint8Array; iter: number } | undefined,
  remembered: { salt: Uint8Array; iter: number } | null,
): void {
  if (!kdf || kdf.iter < MIN_KDF_ITERATIONS) {
    throw new FastChatError(
      "KDF_DOWNGRADE",
      `server offered ${kdf?.iter ?? "no"} KDF iterations (floor ${MIN_KDF_ITERATIONS})`,
    );
  }
  if (!remembered) return;
  if (kdf.iter < remembered.iter || !bytesEqual(kdf.salt, remembered.salt)) {
    throw new FastChatError(
      "KDF_DOWNGRADE",
      `server offered KDF settings (${kdf.iter} iterations) other than this account's ` +
        `(${remembered.iter}); refusing to derive the password with them`,
    );
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
