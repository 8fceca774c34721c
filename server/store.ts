/**
 * The chat server's view of the database: accounts, resume sessions, stored
 * (not yet delivered) ciphertext, key envelopes and pending receipts. Every
 * hot statement is set-based so callers can batch many messages per round trip.
 *
 * @example
 * ```ts
 * import postgres from "postgres";
 * import { ChatStore } from "@fastchat/server/store";
 * const store = new ChatStore(postgres("postgres://postgres@127.0.0.1:7432/postgres"));
 * console.log(await store.userExists("alice"));
 * ```
 * @module
 */
import type { Sql } from "postgres";
import { plainBytes } from "@fastchat/lib/crypto/bytes";
import { FastChatError } from "@fastchat/lib/errors";

/** An account row. */
export interface UserRecord {
  username: string;
  authHash: Uint8Array;
  authSalt: Uint8Array;
  authParams: string;
  kdfSalt: Uint8Array;
  kdfIterations: number;
  encKey: Uint8Array;
  signKey: Uint8Array;
  keyBackup: Uint8Array;
}

/** A resume session row. */
export interface SessionRecord {
  id: string;
  username: string;
  secretHash: Uint8Array;
  expiresAt: Date;
}

/** A message as stored (ciphertext only). */
export interface StoredMessage {
  seq?: number;
  id: string;
  sender: string;
  recipient: string;
  kind: number;
  body: Uint8Array;
  sentAt: number;
}

/** A key envelope addressed to one recipient. */
export interface EnvelopeRecord {
  recipient: string;
  kid: string;
  sender: string;
  envelope: Uint8Array;
}

/** Identifies one message addressed to `recipient`. */
export interface MessageRef {
  recipient: string;
  sender: string;
  id: string;
}

/**
 * Typed access to FastChat's tables.
 *
 * @example
 * ```ts
 * import postgres from "postgres";
 * import { ChatStore } from "@fastchat/server/store";
 * const store = new ChatStore(postgres(Deno.env.get("DATABASE_URL")!));
 * const pending = await store.pendingFor("bob", 0, 100);
 * ```
 */
export class ChatStore {
  constructor(readonly sql: Sql) {}

  /** Inserts a new account; `USER_EXISTS` if the name is taken. */
  async createUser(u: UserRecord): Promise<void> {
    try {
      await this.sql`insert into users (username, auth_hash, auth_salt, auth_params, kdf_salt,
        kdf_iterations, enc_key, sign_key, key_backup) values (${u.username}, ${u.authHash},
        ${u.authSalt}, ${u.authParams}, ${u.kdfSalt}, ${u.kdfIterations}, ${u.encKey},
        ${u.signKey}, ${u.keyBackup})`;
    } catch (e) {
      if ((e as { code?: string }).code === "23505") {
        throw new FastChatError("USER_EXISTS", `user ${u.username} already exists`);
      }
      throw e;
    }
  }

  /** Loads an account or returns null. */
  async getUser(username: string): Promise<UserRecord | null> {
    const [r] = await this.sql`select * from users where username = ${username}`;
    if (!r) return null;
    return {
      username: r.username,
      authHash: plainBytes(r.auth_hash),
      authSalt: plainBytes(r.auth_salt),
      authParams: r.auth_params,
      kdfSalt: plainBytes(r.kdf_salt),
      kdfIterations: r.kdf_iterations,
      encKey: plainBytes(r.enc_key),
      signKey: plainBytes(r.sign_key),
      keyBackup: plainBytes(r.key_backup),
    };
  }

  /** Whether an account exists. */
  async userExists(username: string): Promise<boolean> {
    const rows = await this.sql`select 1 from users where username = ${username}`;
    return rows.length > 0;
  }

  /** Stores a resume session (only the hash of its secret). */
  async createSession(s: SessionRecord): Promise<void> {
    await this.sql`insert into sessions (id, username, secret_hash, expires_at)
      values (${s.id}, ${s.username}, ${s.secretHash}, ${s.expiresAt})`;
  }

  /** Loads an unexpired session by id. */
  async getSession(id: string): Promise<SessionRecord | null> {
    const [r] = await this.sql`select id, username, secret_hash, expires_at from sessions
      where id = ${id} and expires_at > now()`;
    if (!r) return null;
    return {
      id: r.id,
      username: r.username,
      secretHash: plainBytes(r.secret_hash),
      expiresAt: r.expires_at,
    };
  }

  /** Revokes a session; also purges expired ones. */
  async deleteSession(id: string): Promise<void> {
    await this.sql`delete from sessions where id = ${id} or expires_at < now()`;
  }

  /** Inserts messages, ignoring (sender, id) duplicates; returns nothing (idempotent). */
  async insertMessages(rows: StoredMessage[]): Promise<void> {
    if (rows.length === 0) return;
    await this.sql`insert into messages (id, sender, recipient, kind, body, sent_at)
      select * from unnest(${this.sql.array(rows.map((r) => r.id))}::text[],
        ${this.sql.array(rows.map((r) => r.sender))}::text[],
        ${this.sql.array(rows.map((r) => r.recipient))}::text[],
        ${this.sql.array(rows.map((r) => r.kind))}::int2[],
        ${this.sql.array(rows.map((r) => r.body))}::bytea[],
        ${this.sql.array(rows.map((r) => r.sentAt))}::int8[])
      on conflict (sender, id) do nothing`;
  }

  /**
   * Removes delivered messages (or marks them delivered when `retain`), only
   * where the acknowledging user is their recipient, and records a receipt
   * for each sender in the same statement, so a crash cannot lose it (the
   * sender acknowledges receipts; see {@link deleteReceipts}). Returns the
   * refs that were actually pending, so receipts are never forged.
   */
  async completeMessages(refs: MessageRef[], retain = false): Promise<MessageRef[]> {
    if (refs.length === 0) return [];
    const r = this.sql.array(refs.map((x) => x.recipient));
    const s = this.sql.array(refs.map((x) => x.sender));
    const i = this.sql.array(refs.map((x) => x.id));
    const rows = retain
      ? await this.sql`with done as (update messages m set delivered_at = now()
            from unnest(${r}::text[], ${s}::text[], ${i}::text[]) as a(recipient, sender, id)
            where m.recipient = a.recipient and m.sender = a.sender and m.id = a.id
              and m.delivered_at is null
            returning m.recipient, m.sender, m.id),
          rec as (insert into receipts (username, peer, message_id)
            select sender, recipient, id from done on conflict do nothing)
          select recipient, sender, id from done`
      : await this.sql`with done as (delete from messages m
            using unnest(${r}::text[], ${s}::text[], ${i}::text[]) as a(recipient, sender, id)
            where m.recipient = a.recipient and m.sender = a.sender and m.id = a.id
            returning m.recipient, m.sender, m.id),
          rec as (insert into receipts (username, peer, message_id)
            select sender, recipient, id from done on conflict do nothing)
          select recipient, sender, id from done`;
    return rows.map((x) => ({ recipient: x.recipient, sender: x.sender, id: x.id }));
  }

  /** Undelivered messages for `recipient` after `afterSeq`, oldest first. */
  async pendingFor(recipient: string, afterSeq: number, limit: number): Promise<StoredMessage[]> {
    const rows = await this.sql`select seq, id, sender, recipient, kind, body, sent_at
      from messages where recipient = ${recipient} and delivered_at is null and seq > ${afterSeq}
      order by seq limit ${limit}`;
    return rows.map((x) => ({
      seq: Number(x.seq),
      id: x.id,
      sender: x.sender,
      recipient: x.recipient,
      kind: x.kind,
      body: plainBytes(x.body),
      sentAt: Number(x.sent_at),
    }));
  }

  /** Stores key envelopes (first write wins). */
  async insertEnvelopes(rows: EnvelopeRecord[]): Promise<void> {
    if (rows.length === 0) return;
    await this.sql`insert into key_envelopes (recipient, kid, sender, envelope)
      select * from unnest(${this.sql.array(rows.map((r) => r.recipient))}::text[],
        ${this.sql.array(rows.map((r) => r.kid))}::text[],
        ${this.sql.array(rows.map((r) => r.sender))}::text[],
        ${this.sql.array(rows.map((r) => r.envelope))}::bytea[])
      on conflict do nothing`;
  }

  /** The envelope `kid` addressed to `recipient`, if any. */
  async getEnvelope(recipient: string, kid: string): Promise<EnvelopeRecord | null> {
    const [r] = await this.sql`select recipient, kid, sender, envelope from key_envelopes
      where recipient = ${recipient} and kid = ${kid}`;
    return r
      ? { recipient: r.recipient, kid: r.kid, sender: r.sender, envelope: plainBytes(r.envelope) }
      : null;
  }

  /** Queues delivery receipts for senders who are offline. */
  async insertReceipts(refs: MessageRef[]): Promise<void> {
    if (refs.length === 0) return;
    await this.sql`insert into receipts (username, peer, message_id)
      select * from unnest(${this.sql.array(refs.map((x) => x.sender))}::text[],
        ${this.sql.array(refs.map((x) => x.recipient))}::text[],
        ${this.sql.array(refs.map((x) => x.id))}::text[])
      on conflict do nothing`;
  }

  /** Receipts waiting for `username` (the original sender), oldest first. */
  async pendingReceipts(username: string, limit = 10_000): Promise<MessageRef[]> {
    const rows = await this.sql`select username, peer, message_id from receipts
      where username = ${username} order by created_at limit ${limit}`;
    return rows.map((x) => ({ sender: x.username, recipient: x.peer, id: x.message_id }));
  }

  /** Deletes receipts their sender acknowledged ([sender, peer, id] refs). */
  async deleteReceipts(refs: MessageRef[]): Promise<void> {
    if (refs.length === 0) return;
    await this.sql`delete from receipts r using unnest(
        ${this.sql.array(refs.map((x) => x.sender))}::text[],
        ${this.sql.array(refs.map((x) => x.recipient))}::text[],
        ${this.sql.array(refs.map((x) => x.id))}::text[]) as a(username, peer, message_id)
      where r.username = a.username and r.peer = a.peer and r.message_id = a.message_id`;
  }
}
