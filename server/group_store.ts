/**
 * Groups in the database: membership (who is in, who is admin) enforced on
 * every change, and membership events written to the group log in the same
 * transaction as the change, one row for the event plus one pending row per
 * member it is for, so a member offline during a change learns it at next
 * login exactly like a message. Changes to one group are serialised by a row
 * lock on the group; refusals are typed (`UNKNOWN_GROUP`, `NOT_GROUP_MEMBER`,
 * `NOT_GROUP_ADMIN`, `GROUP_EXISTS`, `INVALID_GROUP_NAME`, `GROUP_FULL`,
 * `UNKNOWN_USER`) and change nothing.
 *
 * @example
 * ```ts
 * import postgres from "postgres";
 * import { GroupStore } from "@fastchat/server/group_store";
 * declare const sql: postgres.Sql;
 * const groups = new GroupStore(sql);
 * const [created] = await groups.create("alice", "team", ["bob"]);
 * created.recipients; // ["alice", "bob"]: who gets the "created" event
 * ```
 * @module
 */
import type { Sql, TransactionSql } from "postgres";
import { randomBytes, toBase64Url } from "@fastchat/lib/crypto/bytes";
import { FastChatError } from "@fastchat/lib/errors";
import { DEFAULT_MAX_GROUP_MEMBERS } from "@fastchat/lib/protocol";
import { checkGroupName } from "@fastchat/lib/group_name";
import { encodeGroupEvent, type GroupChange, type GroupEvent } from "@fastchat/lib/group_event";
import { GROUP_EVENT_KIND, type GroupLogEntry } from "./group_log.ts";

/**
 * One member of a group.
 *
 * @example
 * ```ts
 * const m: GroupMember = { user: "alice", admin: true };
 * ```
 */
export interface GroupMember {
  /** Username. */
  user: string;
  /** May add, remove and promote members. */
  admin: boolean;
}

/**
 * A group as listed for one of its members.
 *
 * @example
 * ```ts
 * const g: GroupSummary = { name: "team", admin: false, members: 3 };
 * ```
 */
export interface GroupSummary {
  /** Group name. */
  name: string;
  /** Whether the asking user is an admin. */
  admin: boolean;
  /** Member count. */
  members: number;
}

/** Event ids are message ids (unique per actor): "ev" and 120 random bits. */
function eventId(): string {
  return `ev${toBase64Url(randomBytes(15))}`;
}

/** Membership in the database, with the events each change produces. */
export class GroupStore {
  readonly #sql: Sql;
  readonly #maxMembers: number;

  /** `maxMembers` bounds every group (default 1,000). */
  constructor(sql: Sql, opts: { maxMembers?: number } = {}) {
    this.#sql = sql;
    this.#maxMembers = opts.maxMembers ?? DEFAULT_MAX_GROUP_MEMBERS;
  }

  /** Largest group allowed. */
  get maxMembers(): number {
    return this.#maxMembers;
  }

  /**
   * Creates `name` with `by` as its admin and `members` (existing users) as
   * members; returns the `created` event (it carries the member list).
   */
  async create(by: string, name: string, members: string[]): Promise<GroupLogEntry[]> {
    checkGroupName(name);
    const others = [...new Set(members)].filter((u) => u !== by);
    if (others.length + 1 > this.#maxMembers) {
      throw new FastChatError("GROUP_FULL", `groups hold at most ${this.#maxMembers} members`);
    }
    return await this.#sql.begin(async (tx) => {
      await this.#requireUsers(tx, others);
      const made = await tx`insert into groups (name, created_by) values (${name}, ${by})
        on conflict (name) do nothing returning name`;
      if (made.length === 0) throw new FastChatError("GROUP_EXISTS", `#${name} already exists`);
      await tx`insert into group_members (group_name, username, admin) values (${name}, ${by}, true)`;
      for (const u of others) {
        await tx`insert into group_members (group_name, username) values (${name}, ${u})`;
      }
      return [
        await this.#event(tx, name, { change: "created", user: by, by, members: [by, ...others] }),
      ];
    }) as GroupLogEntry[];
  }

  /** Admin `by` adds `user`; returns the `added` event, or nothing if already a member. */
  add(by: string, name: string, user: string): Promise<GroupLogEntry[]> {
    return this.#change(name, by, true, async (tx, members) => {
      if (members.has(user)) return [];
      await this.#requireUsers(tx, [user]);
      if (members.size + 1 > this.#maxMembers) {
        throw new FastChatError("GROUP_FULL", `#${name} has ${this.#maxMembers} members already`);
      }
      await tx`insert into group_members (group_name, username) values (${name}, ${user})`;
      return [await this.#event(tx, name, { change: "added", user, by })];
    });
  }

  /** Admin `by` removes `user` (who gets the event too); removing oneself is leaving. */
  remove(by: string, name: string, user: string): Promise<GroupLogEntry[]> {
    if (user === by) return this.leave(by, name);
    return this.#change(name, by, true, async (tx, members) => {
      if (!members.has(user)) {
        throw new FastChatError("NOT_GROUP_MEMBER", `${user} is not a member of #${name}`, {
          user,
        });
      }
      const ev = await this.#event(tx, name, { change: "removed", user, by });
      await tx`delete from group_members where group_name = ${name} and username = ${user}`;
      return [ev];
    });
  }

  /** Admin `by` makes `user` an admin; nothing if already one. */
  promote(by: string, name: string, user: string): Promise<GroupLogEntry[]> {
    return this.#change(name, by, true, async (tx, members) => {
      const m = members.get(user);
      if (m === undefined) {
        throw new FastChatError("NOT_GROUP_MEMBER", `${user} is not a member of #${name}`, {
          user,
        });
      }
      if (m) return [];
      await tx`update group_members set admin = true
        where group_name = ${name} and username = ${user}`;
      return [await this.#event(tx, name, { change: "promoted", user, by })];
    });
  }

  /**
   * `by` leaves; when the last admin leaves, the oldest remaining member is
   * promoted (a second event); the last member leaving deletes the group.
   */
  leave(by: string, name: string): Promise<GroupLogEntry[]> {
    return this.#change(name, by, false, async (tx, members) => {
      const out = [await this.#event(tx, name, { change: "left", user: by, by })];
      await tx`delete from group_members where group_name = ${name} and username = ${by}`;
      const admins = [...members].filter(([u, admin]) => admin && u !== by);
      if (members.size === 1) {
        await tx`delete from groups where name = ${name}`;
      } else if (admins.length === 0) {
        const [oldest] = await tx`select username from group_members
          where group_name = ${name} order by joined limit 1`;
        await tx`update group_members set admin = true
          where group_name = ${name} and username = ${oldest.username}`;
        out.push(
          await this.#event(tx, name, { change: "promoted", user: oldest.username, by }),
        );
      }
      return out;
    });
  }

  /** Members of `name`, oldest first; only members may ask. */
  async members(by: string, name: string): Promise<GroupMember[]> {
    checkGroupName(name);
    const rows = await this.#sql`select username, admin from group_members
      where group_name = ${name} order by joined`;
    if (rows.length === 0) throw unknownGroup(name);
    if (!rows.some((r) => r.username === by)) throw notMember(name);
    return rows.map((r) => ({ user: r.username, admin: r.admin }));
  }

  /** Groups `user` belongs to, by name. */
  async groupsOf(user: string): Promise<GroupSummary[]> {
    const rows = await this.#sql`select m.group_name, m.admin,
        (select count(*) from group_members c where c.group_name = m.group_name)::int as n
      from group_members m where m.username = ${user} order by m.group_name`;
    return rows.map((r) => ({ name: r.group_name, admin: r.admin, members: r.n }));
  }

  async #change(
    name: string,
    by: string,
    needAdmin: boolean,
    fn: (tx: TransactionSql, members: Map<string, boolean>) => Promise<GroupLogEntry[]>,
  ): Promise<GroupLogEntry[]> {
    checkGroupName(name);
    return await this.#sql.begin(async (tx) => {
      const [g] = await tx`select name from groups where name = ${name} for update`;
      if (!g) throw unknownGroup(name);
      const rows = await tx`select username, admin from group_members where group_name = ${name}`;
      const members = new Map<string, boolean>(rows.map((r) => [r.username, r.admin]));
      const mine = members.get(by);
      if (mine === undefined) throw notMember(name);
      if (needAdmin && !mine) {
        throw new FastChatError("NOT_GROUP_ADMIN", `only admins of #${name} can do that`);
      }
      return await fn(tx, members);
    }) as GroupLogEntry[];
  }

  async #requireUsers(tx: TransactionSql, users: string[]): Promise<void> {
    if (users.length === 0) return;
    const rows = await tx`select username from users where username = any(${tx.array(users)})`;
    const known = new Set(rows.map((r) => r.username));
    const missing = users.find((u) => !known.has(u));
    if (missing !== undefined) {
      throw new FastChatError("UNKNOWN_USER", `no such user: ${missing}`, { user: missing });
    }
  }

  /** Logs `ev` once with a pending row for every current member. */
  async #event(tx: TransactionSql, group: string, ev: GroupEvent): Promise<GroupLogEntry> {
    const id = eventId();
    const sentAt = Date.now();
    const body = encodeGroupEvent(group, ev);
    const rows = await tx`with ins as (
        insert into group_log (group_name, sender, id, kind, body, sent_at)
        values (${group}, ${ev.by}, ${id}, ${GROUP_EVENT_KIND}, ${body}, ${sentAt})
        returning seq),
      pend as (
        insert into group_pending (username, seq)
        select m.username, ins.seq from group_members m, ins where m.group_name = ${group}
        returning username)
      select (select seq from ins) as seq, coalesce(array_agg(username order by username), '{}') as users
      from pend`;
    return {
      seq: Number(rows[0].seq),
      group,
      sender: ev.by,
      id,
      kind: GROUP_EVENT_KIND,
      body,
      sentAt,
      recipients: rows[0].users,
    };
  }
}

function unknownGroup(name: string): FastChatError {
  return new FastChatError("UNKNOWN_GROUP", `no such group: #${name}`);
}

function notMember(name: string): FastChatError {
  return new FastChatError("NOT_GROUP_MEMBER", `you are not a member of #${name}`);
}

export type { GroupChange };
