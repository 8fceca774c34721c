/**
 * Who is online where: the users each other server reported (snapshot,
 * then presence changes), indexed both ways so that routing a message asks
 * one map. A fabric keeps one; forgetting a server drops all its users.
 *
 * @example
 * ```ts
 * import { PeerDirectory } from "@fastchat/server/peer_directory";
 * const dir = new PeerDirectory();
 * dir.replace("srv-2", ["bob"]);
 * [...dir.serversOf("bob")]; // ["srv-2"]
 * dir.forget("srv-2");
 * [...dir.serversOf("bob")]; // []
 * ```
 * @module
 */

const NOWHERE: readonly string[] = [];

/**
 * Users online per server, and servers per user.
 *
 * @example
 * ```ts
 * import { PeerDirectory } from "@fastchat/server/peer_directory";
 * const dir = new PeerDirectory();
 * dir.set("srv-2", ["alice", "bob"], true);
 * dir.set("srv-2", ["alice"], false);
 * dir.usersOn("srv-2"); // 1
 * ```
 */
export class PeerDirectory {
  readonly #online = new Map<string, Set<string>>(); // server -> users
  readonly #where = new Map<string, Set<string>>(); // user -> servers

  /** Servers where `user` is online. */
  serversOf(user: string): Iterable<string> {
    return this.#where.get(user) ?? NOWHERE;
  }

  /** How many users `server` reported online. */
  usersOn(server: string): number {
    return this.#online.get(server)?.size ?? 0;
  }

  /** `users` came online (or went offline) on `server`. */
  set(server: string, users: readonly string[], online: boolean): void {
    let set = this.#online.get(server);
    if (!set) this.#online.set(server, set = new Set());
    for (const u of users) {
      let where = this.#where.get(u);
      if (online) {
        set.add(u);
        if (!where) this.#where.set(u, where = new Set());
        where.add(server);
      } else {
        set.delete(u);
        if (where?.delete(server) && where.size === 0) this.#where.delete(u);
      }
    }
  }

  /** `users` are exactly who is online on `server` (a snapshot). */
  replace(server: string, users: readonly string[]): void {
    this.forget(server);
    this.set(server, users, true);
  }

  /** `server` is gone: none of its users is online there any more. */
  forget(server: string): void {
    const users = this.#online.get(server);
    if (!users) return;
    this.set(server, [...users], false);
    this.#online.delete(server);
  }
}
