/**
 * A user's client-side home directory (`~/.fastchat/<user>` by default):
 * the password-sealed identity, the sealed client state (pinned contact
 * keys, session keys) and the encrypted message history. Directories are
 * mode 0700 and files 0600; everything private is sealed under the vault key
 * derived from the user's password.
 *
 * @example
 * ```ts
 * import { UserHome } from "@fastchat/client/user_home";
 * const home = UserHome.at("/tmp/fc-home", "alice");
 * console.log(await home.readIdentity()); // null on first use
 * ```
 * @module
 */
import { msgpackCodec } from "@fastchat/lib/msgpack_codec";
import { openVault, sealVault } from "@fastchat/lib/crypto";
import type { OutboxStorage } from "./outbox.ts";
import { OutboxLog } from "./outbox_log.ts";
import { FastChatError } from "@fastchat/lib/errors";

/** One entry of the local history. */
export interface HistoryRecord {
  id: string;
  /** The other party of the conversation. */
  peer: string;
  from: string;
  to: string;
  text: string;
  sentAt: number;
}

/** Default home root: `$FASTCHAT_HOME` or `~/.fastchat`. */
export function defaultHomeRoot(): string {
  const env = Deno.env.get("FASTCHAT_HOME");
  if (env) return env;
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? ".";
  return `${home}/.fastchat`;
}

const packr = msgpackCodec();

/**
 * Sets `mode` on a file or directory that holds private keys, or fails with
 * `INVALID_CONFIG` naming it: a key file others might read is not written
 * silently. On Windows, which has no POSIX modes, the user profile's ACLs
 * protect the home instead and nothing is changed.
 */
async function restrictMode(path: string, mode: number): Promise<void> {
  if (Deno.build.os === "windows") return;
  try {
    await Deno.chmod(path, mode);
  } catch (e) {
    throw new FastChatError(
      "INVALID_CONFIG",
      `cannot make ${path} private (mode ${mode.toString(8)}): ${(e as Error).message}; ` +
        `it would hold private keys, so nothing was written there`,
    );
  }
}

async function writePrivate(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  await Deno.writeFile(tmp, data, { mode: 0o600 });
  try {
    // `mode` above is only applied when the file is created, and under the umask.
    await restrictMode(tmp, 0o600);
  } catch (e) {
    await Deno.remove(tmp).catch((re) =>
      console.error(`fastchat: cannot remove ${tmp} after a failed write: ${re}`)
    );
    throw e;
  }
  await Deno.rename(tmp, path);
}

async function readOrNull(path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/**
 * Files of one user's home.
 *
 * @example
 * ```ts
 * import { UserHome } from "@fastchat/client/user_home";
 * declare const vaultKey: CryptoKey;
 * const home = UserHome.at("/tmp/fc-home", "alice");
 * await home.appendHistory(vaultKey, {
 *   id: "m1aaaaaaaa", peer: "bob", from: "alice", to: "bob", text: "hi", sentAt: Date.now(),
 * });
 * console.log((await home.readHistory(vaultKey, "bob", 10)).length);
 * ```
 */
export class UserHome {
  #historyChain: Promise<void> = Promise.resolve();
  #ready: Promise<void> | null = null;

  private constructor(readonly dir: string) {}

  /** The home of `user` under `root`. */
  static at(root: string, user: string): UserHome {
    if (!/^[a-z0-9_.-]{1,32}$/.test(user) || user === "." || user === "..") {
      throw new FastChatError("INVALID_USERNAME", `invalid username ${JSON.stringify(user)}`);
    }
    return new UserHome(`${root}/${user}`);
  }

  #ensure(): Promise<void> {
    return this.#ready ??= (async () => {
      await Deno.mkdir(this.dir, { recursive: true, mode: 0o700 });
      await restrictMode(this.dir, 0o700); // it may exist already, with other modes
    })();
  }

  /** The sealed identity, or null if this home has none yet. */
  readIdentity(): Promise<Uint8Array | null> {
    return readOrNull(`${this.dir}/identity.sealed`);
  }

  /** Stores the sealed identity (mode 0600). */
  async writeIdentity(sealed: Uint8Array): Promise<void> {
    await this.#ensure();
    await writePrivate(`${this.dir}/identity.sealed`, sealed);
  }

  /**
   * The KDF settings remembered at registration or first login (public, so
   * stored unsealed, mode 0600): a later prelogin must not offer weaker ones.
   */
  async readKdf(): Promise<{ salt: Uint8Array; iter: number } | null> {
    const raw = await readOrNull(`${this.dir}/kdf.bin`);
    if (!raw) return null;
    const v = packr.unpack(raw) as { salt?: unknown; iter?: unknown };
    if (!(v?.salt instanceof Uint8Array) || typeof v.iter !== "number") {
      throw new FastChatError("INVALID_CONFIG", `${this.dir}/kdf.bin is malformed`);
    }
    return { salt: v.salt, iter: v.iter };
  }

  /** Remembers the KDF settings of this account (see {@link UserHome.readKdf}). */
  async writeKdf(kdf: { salt: Uint8Array; iter: number }): Promise<void> {
    await this.#ensure();
    await writePrivate(`${this.dir}/kdf.bin`, packr.pack({ salt: kdf.salt, iter: kdf.iter }));
  }

  /** Loads and opens the sealed client state. */
  async readState<T>(vaultKey: CryptoKey): Promise<T | null> {
    const sealed = await readOrNull(`${this.dir}/state.sealed`);
    if (!sealed) return null;
    return packr.unpack(await openVault(vaultKey, sealed, "state")) as T;
  }

  /** Reads and opens the group sender keys, or null when there are none yet. */
  async readGroupKeys<T>(vaultKey: CryptoKey): Promise<T | null> {
    const sealed = await readOrNull(`${this.dir}/groups.sealed`);
    if (!sealed) return null;
    return packr.unpack(await openVault(vaultKey, sealed, "groups")) as T;
  }

  /** Seals and stores the group sender keys atomically. */
  async writeGroupKeys(vaultKey: CryptoKey, keys: unknown): Promise<void> {
    await this.#ensure();
    await writePrivate(
      `${this.dir}/groups.sealed`,
      await sealVault(vaultKey, packr.pack(keys), "groups"),
    );
  }

  /** Seals and stores the client state atomically. */
  async writeState(vaultKey: CryptoKey, state: unknown): Promise<void> {
    await this.#ensure();
    await writePrivate(
      `${this.dir}/state.sealed`,
      await sealVault(vaultKey, packr.pack(state), "state"),
    );
  }

  /** Appends records to the encrypted history (writes are serialised). */
  appendHistory(vaultKey: CryptoKey, ...records: HistoryRecord[]): Promise<void> {
    const job = this.#historyChain.then(async () => {
      await this.#ensure();
      const parts: Uint8Array[] = [];
      let total = 0;
      for (const r of records) {
        const sealed = await sealVault(vaultKey, packr.pack(r), "history");
        const head = new Uint8Array(4);
        new DataView(head.buffer).setUint32(0, sealed.length);
        parts.push(head, sealed);
        total += 4 + sealed.length;
      }
      // One write per batch: appends from several clients on one home never interleave.
      const buf = new Uint8Array(total);
      let o = 0;
      for (const p of parts) {
        buf.set(p, o);
        o += p.length;
      }
      const path = `${this.dir}/history.log`;
      const f = await Deno.open(path, { append: true, create: true, mode: 0o600 });
      try {
        let off = 0;
        while (off < buf.length) off += await f.write(buf.subarray(off));
      } finally {
        f.close();
      }
    });
    // The chain only orders the next append after this one; the caller gets
    // this append's failure from `job`, so dropping it here hides nothing.
    this.#historyChain = job.catch(() => {});
    return job;
  }

  /** Resolves when every history append issued so far is on disk. */
  async flush(): Promise<void> {
    await this.#historyChain;
  }

  /**
   * The last `n` records of the conversation with `peer`, oldest first (all
   * peers if null). Records that do not authenticate are skipped; if none
   * does, `WRONG_PASSWORD_LOCAL` is thrown.
   */
  async readHistory(vaultKey: CryptoKey, peer: string | null, n: number): Promise<HistoryRecord[]> {
    await this.#historyChain;
    const data = await readOrNull(`${this.dir}/history.log`);
    if (!data) return [];
    const out: HistoryRecord[] = [];
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let off = 0;
    let good = 0;
    let bad: unknown = null;
    while (off + 4 <= data.length) {
      const len = dv.getUint32(off);
      if (off + 4 + len > data.length) break; // torn final write: ignore the tail
      try {
        const rec = packr.unpack(
          await openVault(vaultKey, data.subarray(off + 4, off + 4 + len), "history"),
        ) as HistoryRecord;
        good++;
        if (peer === null || rec.peer === peer) out.push(rec);
      } catch (e) {
        bad = e;
      }
      off += 4 + len;
    }
    if (good === 0 && bad) throw bad;
    return out.slice(Math.max(0, out.length - n));
  }

  /** The sealed, append-only log behind the user's `Outbox` (`outbox.log`, mode 0600). */
  outboxStorage(vaultKey: CryptoKey): OutboxStorage {
    return new OutboxLog(`${this.dir}/outbox.log`, vaultKey, () => this.#ensure());
  }
}
