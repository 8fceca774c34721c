/**
 * The group log: every group message and membership event stored once, plus
 * one pending row per member it is for until that member acknowledges it.
 * Appends are batched (one statement stores a whole batch, checks that each
 * sender is a member, and fans the pending rows out from the membership table
 * in the same snapshot); acknowledgements are batched too, and a log row goes
 * when its last pending row does.
 *
 * @example
 * ```ts
 * import postgres from "postgres";
 * import { GroupLog } from "@fastchat/server/group_log";
 * declare const sql: postgres.Sql;
 * const log = new GroupLog(sql);
 * const [r] = await log.append([{ group: "team", sender: "alice", id: "m-000001", body: new Uint8Array(16), sentAt: Date.now() }]);
 * r.status; // "stored", with r.entry.recipients the members who will get it
 * ```
 * @module
 */
import type { Sql } from "postgres";
import { plainBytes } from "@fastchat/lib/crypto/bytes";

/** Stored kind code of a group chat message. */
export const GROUP_MESSAGE_KIND = 2;
/** Stored kind code of a membership event. */
export const GROUP_EVENT_KIND = 3;

/**
 * One stored group log entry and the members it is pending for.
 *
 * @example
 * ```ts
 * const e: GroupLogEntry = {
 *   seq: 1, group: "team", sender: "alice", id: "m-000001", kind: GROUP_MESSAGE_KIND,
 *   body: new Uint8Array(16), sentAt: 0, recipients: ["bob"],
 * };
 * ```
 */
export interface GroupLogEntry {
  /** Position in the log (global, increasing). */
  seq: number;
  /** Group name. */
  group: string;
  /** Author (for events: the actor). */
  sender: string;
  /** Message id, unique per sender. */
  id: string;
  /** {@link GROUP_MESSAGE_KIND} or {@link GROUP_EVENT_KIND}. */
  kind: number;
  /** Ciphertext, or the event record. */
  body: Uint8Array;
  /** Sender's timestamp, ms. */
  sentAt: number;
  /** Members it was stored for (every member but the sender, or all for events). */
  recipients: string[];
}

/**
 * A group message to append.
 *
 * @example
 * ```ts
 * const m: GroupMessageRow = { group: "team", sender: "alice", id: "m-000001", body: new Uint8Array(1), sentAt: 1 };
 * ```
 */
export interface GroupMessageRow {
  /** Group name. */
  group: string;
  /** Author. */
  sender: string;
  /** Message id. */
  id: string;
  /** Ciphertext. */
  body: Uint8Array;
  /** Sender's timestamp, ms. */
  sentAt: number;
}

/**
 * What became of one appended message: stored (with its entry), a
 * `duplicate` of one stored before (a resend), or refused because the sender
 * is `not_member` (or the group does not exist).
 *
 * @example
 * ```ts
 * const r: AppendResult = { status: "not_member" };
 * ```
 */
export type AppendResult =
  | { status: "stored"; entry: GroupLogEntry }
  | { status: "duplicate" }
  | { status: "not_member" };

/** The group log's statements. */
export class GroupLog {
  readonly #sql: Sql;

  /** Uses `sql` for every statement. */
  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** Appends a batch in one statement; results are in input order. */
  async append(rows: GroupMessageRow[]): Promise<AppendResult[]> {
    if (rows.length === 0) return [];
    const sql = this.#sql;
    const got = await sql`with input as (
        select * from unnest(${sql.array(rows.map((r) => r.group))}::text[],
          ${sql.array(rows.map((r) => r.sender))}::text[],
          ${sql.array(rows.map((r) => r.id))}::text[],
          ${sql.array(rows.map((r) => r.body))}::bytea[],
          ${sql.array(rows.map((r) => r.sentAt))}::int8[])
          with ordinality as t(group_name, sender, id, body, sent_at, ord)),
      ok as (
        select i.* from input i where exists (select 1 from group_members m
          where m.group_name = i.group_name and m.username = i.sender)),
      ins as (
        insert into group_log (group_name, sender, id, kind, body, sent_at)
        select group_name, sender, id, ${GROUP_MESSAGE_KIND}, body, sent_at from ok order by ord
        on conflict (sender, id) do nothing
        returning seq, group_name, sender, id),
      pend as (
        insert into group_pending (username, seq)
        select m.username, ins.seq from ins
          join group_members m on m.group_name = ins.group_name and m.username <> ins.sender
        returning username, seq)
      select i.ord, (o.ord is not null) as member, ins.seq,
        (select coalesce(array_agg(p.username order by p.username), '{}')
          from pend p where p.seq = ins.seq) as recipients
      from input i
        left join ok o on o.ord = i.ord
        left join ins on ins.sender = i.sender and ins.id = i.id
      order by i.ord`;
    return got.map((r, k): AppendResult => {
      if (!r.member) return { status: "not_member" };
      if (r.seq === null) return { status: "duplicate" };
      const row = rows[k];
      return {
        status: "stored",
        entry: {
          seq: Number(r.seq),
          group: row.group,
          sender: row.sender,
          id: row.id,
          kind: GROUP_MESSAGE_KIND,
          body: row.body,
          sentAt: row.sentAt,
          recipients: r.recipients,
        },
      };
    });
  }

  /** What is pending for `user` after `afterSeq`, oldest first. */
  async pendingFor(user: string, afterSeq: number, limit: number): Promise<GroupLogEntry[]> {
    const rows = await this.#sql`select l.seq, l.group_name, l.sender, l.id, l.kind, l.body,
        l.sent_at
      from group_pending p join group_log l on l.seq = p.seq
      where p.username = ${user} and p.seq > ${afterSeq}
      order by p.seq limit ${limit}`;
    return rows.map((r) => ({
      seq: Number(r.seq),
      group: r.group_name,
      sender: r.sender,
      id: r.id,
      kind: r.kind,
      body: plainBytes(r.body),
      sentAt: Number(r.sent_at),
      recipients: [user],
    }));
  }

  /**
   * Marks entries acknowledged by their recipients (`user` acknowledged the
   * entry `sender`/`id`), then drops log rows nobody waits for any more.
   * Returns how many pending rows there were.
   */
  async complete(acks: { user: string; sender: string; id: string }[]): Promise<number> {
    if (acks.length === 0) return 0;
    const sql = this.#sql;
    const done = await sql`delete from group_pending p
      using group_log l, unnest(${sql.array(acks.map((a) => a.user))}::text[],
        ${sql.array(acks.map((a) => a.sender))}::text[],
        ${sql.array(acks.map((a) => a.id))}::text[]) as a(username, sender, id)
      where l.sender = a.sender and l.id = a.id and p.seq = l.seq and p.username = a.username
      returning p.seq`;
    if (done.length === 0) return 0;
    const seqs = [...new Set(done.map((r) => String(r.seq)))];
    // A separate statement: it must see the pending rows this one and any
    // concurrent completion removed (the later of two always does).
    await sql`delete from group_log l using unnest(${sql.array(seqs)}::int8[]) as s(seq)
      where l.seq = s.seq and not exists (select 1 from group_pending p where p.seq = l.seq)`;
    return done.length;
  }
}
