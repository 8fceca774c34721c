/**
 * Presence: which server(s) each online user's sessions are on. Each
 * server keeps its own users' session counts in memory and writes changes
 * to the `presence` table in batches (a login storm is a few statements,
 * not one per login). Rows of a dead server are purged by the registry.
 *
 * @example
 * ```ts
 * import { PresenceTracker } from "@fastchat/server/presence";
 * declare const sql: import("postgres").Sql;
 * const presence = new PresenceTracker(sql, "fc-7701");
 * presence.add("alice");
 * await presence.flush();
 * console.log(await presence.serversOf("alice")); // ["fc-7701"]
 * ```
 * @module
 */
import type { Sql } from "postgres";
import { type Logger, nullLogger } from "@fastchat/lib/logger";

/**
 * Batched presence writer for one server.
 *
 * @example
 * ```ts
 * import { PresenceTracker } from "@fastchat/server/presence";
 * declare const p: PresenceTracker;
 * p.remove("alice");
 * ```
 */
export class PresenceTracker {
  readonly #sql: Sql;
  readonly #log: Logger;
  readonly #counts = new Map<string, number>();
  readonly #dirty = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> | null = null;

  constructor(
    sql: Sql,
    readonly serverId: string,
    opts: { delayMs?: number; logger?: Logger } = {},
  ) {
    this.#sql = sql;
    this.#log = opts.logger ?? nullLogger;
    this.delayMs = opts.delayMs ?? 50;
  }

  /** Batching delay. */
  readonly delayMs: number;

  /** Local sessions of `user`. */
  sessions(user: string): number {
    return this.#counts.get(user) ?? 0;
  }

  /** A session of `user` attached here. */
  add(user: string): void {
    this.#counts.set(user, (this.#counts.get(user) ?? 0) + 1);
    this.#touch(user);
  }

  /** A session of `user` detached from here. */
  remove(user: string): void {
    const n = (this.#counts.get(user) ?? 0) - 1;
    if (n > 0) this.#counts.set(user, n);
    else this.#counts.delete(user);
    this.#touch(user);
  }

  #touch(user: string): void {
    this.#dirty.add(user);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.flush().catch((e) => this.#log.warn("presence_write_failed", { error: String(e) }));
      }, this.delayMs);
    }
  }

  /** Writes pending changes now. */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
    if (this.#dirty.size === 0) return;
    const users = [...this.#dirty];
    this.#dirty.clear();
    const online = users.filter((u) => this.#counts.has(u));
    const offline = users.filter((u) => !this.#counts.has(u));
    this.#writing = (async () => {
      try {
        if (online.length > 0) {
          await this.#sql`insert into presence (username, server_id, sessions)
            select u, ${this.serverId}, n from unnest(${this.#sql.array(online)}::text[],
              ${this.#sql.array(online.map((u) => this.#counts.get(u) ?? 0))}::int4[]) as t(u, n)
            on conflict (username, server_id) do update set sessions = excluded.sessions`;
        }
        if (offline.length > 0) {
          await this.#sql`delete from presence where server_id = ${this.serverId}
            and username = any(${this.#sql.array(offline)}::text[])`;
        }
      } catch (e) {
        for (const u of users) this.#dirty.add(u); // retry with the next batch
        throw e;
      } finally {
        this.#writing = null;
      }
    })();
    await this.#writing;
  }

  /** Servers that `user` has sessions on, per the store. */
  async serversOf(user: string): Promise<string[]> {
    const rows = await this.#sql`select server_id from presence where username = ${user}
      order by server_id`;
    return rows.map((r) => r.server_id as string);
  }

  /** Stops the batching timer. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
