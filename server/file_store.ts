/**
 * Encrypted files in the database. A sender opens an upload (declaring the
 * ciphertext size and chunk count, refused above the server's limit), stores
 * chunks strictly in order (so "how far did I get" is one number, and a cut
 * upload resumes from it), then attaches the complete file to a message: the
 * message's recipients get grants, the only thing that lets anyone fetch a
 * chunk. A grant ends when its holder acknowledges the message (after the
 * client verified the whole file), and a sent file with no grants left is
 * deleted with its chunks. Uploads never attached, and files not fetched,
 * expire.
 *
 * @example
 * ```ts
 * import postgres from "postgres";
 * import { FileStore } from "@fastchat/server/file_store";
 * declare const sql: postgres.Sql;
 * const files = new FileStore(sql, { maxFileBytes: 100 * 2 ** 20 });
 * const have = await files.open("alice", "AbCdEfGhIjKlMnOpQrStUv", 300_000, 2); // 0
 * ```
 * @module
 */
import type { Sql } from "postgres";
import { plainBytes } from "@fastchat/lib/crypto/bytes";
import { FILE_CHUNK_BYTES, FILE_CHUNK_OVERHEAD } from "@fastchat/lib/crypto";
import { FastChatError } from "@fastchat/lib/errors";

/** Default largest file (plaintext) a server accepts: 100 MiB. */
export const DEFAULT_MAX_FILE_BYTES = 100 * 1024 * 1024;

/** Default time a file is kept for recipients who have not fetched it. */
export const DEFAULT_FILE_RETENTION_MS = 7 * 24 * 3600_000;

/** Time an upload may stay unattached to a message. */
export const UPLOAD_TTL_MS = 24 * 3600_000;

/** Largest ciphertext chunk accepted (256 KiB of plaintext plus overhead). */
export const MAX_CHUNK_BYTES = FILE_CHUNK_BYTES + FILE_CHUNK_OVERHEAD;

/**
 * Options of a {@link FileStore}.
 *
 * @example
 * ```ts
 * const o: FileStoreOptions = { maxFileBytes: 2 ** 20, retentionMs: 3600_000 };
 * ```
 */
export interface FileStoreOptions {
  /** Largest file in plaintext bytes (ciphertext may add 28 bytes per chunk). */
  maxFileBytes?: number;
  /** How long a sent file waits for its recipients. */
  retentionMs?: number;
}

function notFound(): FastChatError {
  return new FastChatError("FILE_NOT_FOUND", "no such file, or not yours to read");
}

/** Uploads, chunks and grants. */
export class FileStore {
  readonly #sql: Sql;
  /** Largest file in plaintext bytes. */
  readonly maxFileBytes: number;
  readonly #retentionMs: number;

  /** Uses `sql`; limits from `opts`. */
  constructor(sql: Sql, opts: FileStoreOptions = {}) {
    this.#sql = sql;
    this.maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.#retentionMs = opts.retentionMs ?? DEFAULT_FILE_RETENTION_MS;
  }

  /**
   * Opens (or reopens, to resume) `owner`'s upload of `file`: `bytes` of
   * ciphertext in `chunks` chunks. Returns how many chunks are stored
   * already. `FILE_TOO_LARGE` above the limit; `BAD_REQUEST` when the id is
   * someone else's or was declared with another size.
   */
  async open(owner: string, file: string, bytes: number, chunks: number): Promise<number> {
    if (
      !Number.isSafeInteger(bytes) || !Number.isSafeInteger(chunks) || chunks < 1 ||
      bytes < chunks * FILE_CHUNK_OVERHEAD || bytes > chunks * MAX_CHUNK_BYTES
    ) {
      throw new FastChatError("BAD_REQUEST", "chunk count does not fit the size");
    }
    if (bytes > this.maxFileBytes + chunks * FILE_CHUNK_OVERHEAD) {
      throw new FastChatError(
        "FILE_TOO_LARGE",
        `files may be at most ${this.maxFileBytes} bytes on this server`,
        { limit: this.maxFileBytes },
      );
    }
    const expires = new Date(Date.now() + UPLOAD_TTL_MS);
    const rows = await this.#sql`insert into files (id, owner, bytes, chunks, expires_at)
      values (${file}, ${owner}, ${bytes}, ${chunks}, ${expires})
      on conflict (id) do update set expires_at = excluded.expires_at
        where files.owner = excluded.owner and files.bytes = excluded.bytes
          and files.chunks = excluded.chunks and not files.sent
      returning stored`;
    if (rows.length === 0) {
      throw new FastChatError("BAD_REQUEST", "that file id is in use");
    }
    return rows[0].stored;
  }

  /**
   * Stores chunk `idx` of `owner`'s open upload; it must be the next one
   * (`idx === stored`; a repeat of the previous one is accepted, as a resend
   * after a lost reply). Returns the new stored count.
   */
  async putChunk(owner: string, file: string, idx: number, data: Uint8Array): Promise<number> {
    if (data.length > MAX_CHUNK_BYTES || data.length < FILE_CHUNK_OVERHEAD) {
      throw new FastChatError(
        "BAD_REQUEST",
        `chunks are ${FILE_CHUNK_OVERHEAD}..${MAX_CHUNK_BYTES} bytes`,
      );
    }
    const rows = await this.#sql`with f as (
        update files set stored = stored + 1
        where id = ${file} and owner = ${owner} and not sent and stored = ${idx} and ${idx} < chunks
        returning id, stored),
      c as (insert into file_chunks (file_id, idx, data)
        select id, ${idx}, ${data} from f returning idx)
      select (select stored from f) as now_stored,
        (select stored from files where id = ${file} and owner = ${owner}) as was`;
    const r = rows[0];
    if (r.now_stored !== null) return r.now_stored;
    if (r.was === null) throw notFound();
    if (r.was === idx + 1) return r.was; // already stored: a resend
    throw new FastChatError("BAD_REQUEST", `expected chunk ${r.was}, got ${idx}`, {
      expectedChunk: r.was,
    });
  }

  /**
   * Attaches `owner`'s complete upload to the message `sender`/`msgId` and
   * grants it to `recipients`. Idempotent for a resend of the same message.
   * `TRANSFER_FAILED` if chunks are missing; `FILE_NOT_FOUND` if it is not
   * the sender's.
   */
  async attach(file: string, sender: string, msgId: string, recipients: string[]): Promise<void> {
    const expires = new Date(Date.now() + this.#retentionMs);
    await this.#sql.begin(async (tx) => {
      const [f] = await tx`select stored, chunks, sent from files
        where id = ${file} and owner = ${sender} for update`;
      if (!f) throw notFound();
      if (f.stored !== f.chunks) {
        throw new FastChatError(
          "TRANSFER_FAILED",
          `the upload is incomplete (${f.stored} of ${f.chunks} chunks)`,
        );
      }
      if (recipients.length > 0) {
        await tx`insert into file_grants (file_id, username, sender, msg_id)
          select ${file}, u, ${sender}, ${msgId} from unnest(${tx.array(recipients)}::text[]) u
          on conflict do nothing`;
      }
      await tx`update files set sent = true, expires_at = ${expires} where id = ${file}`;
    });
  }

  /**
   * Up to `count` chunks of `file` from `from` on, for a user holding a
   * grant; `FILE_NOT_FOUND` otherwise (no grant, or the file is gone).
   */
  async chunks(
    user: string,
    file: string,
    from: number,
    count: number,
  ): Promise<{ idx: number; data: Uint8Array }[]> {
    const [g] = await this.#sql`select f.chunks from file_grants g join files f on f.id = g.file_id
      where g.file_id = ${file} and g.username = ${user}`;
    if (!g) throw notFound();
    if (from >= g.chunks) return [];
    const rows = await this.#sql`select idx, data from file_chunks
      where file_id = ${file} and idx >= ${from} and idx < ${from + count} order by idx`;
    return rows.map((r) => ({ idx: r.idx, data: plainBytes(r.data) }));
  }

  /**
   * Ends the grants carried by acknowledged messages and deletes sent files
   * nobody may fetch any more. Returns the ids of deleted files.
   */
  async release(acks: { user: string; sender: string; id: string }[]): Promise<string[]> {
    if (acks.length === 0) return [];
    const sql = this.#sql;
    const ended = await sql`delete from file_grants g
      using unnest(${sql.array(acks.map((a) => a.user))}::text[],
        ${sql.array(acks.map((a) => a.sender))}::text[],
        ${sql.array(acks.map((a) => a.id))}::text[]) as a(username, sender, id)
      where g.username = a.username and g.sender = a.sender and g.msg_id = a.id
      returning g.file_id`;
    if (ended.length === 0) return [];
    const ids = [...new Set(ended.map((r) => r.file_id as string))];
    // A separate statement, so it sees grants a concurrent release removed.
    const gone = await sql`delete from files f using unnest(${sql.array(ids)}::text[]) as x(id)
      where f.id = x.id and f.sent
        and not exists (select 1 from file_grants g where g.file_id = f.id)
      returning f.id`;
    return gone.map((r) => r.id);
  }

  /** Deletes expired files (unattached uploads, unfetched files). */
  async expire(now: Date = new Date()): Promise<number> {
    const rows = await this.#sql`delete from files where expires_at < ${now} returning id`;
    return rows.length;
  }

  /** Declared size and progress of `owner`'s upload, or undefined. */
  async progress(
    owner: string,
    file: string,
  ): Promise<{ bytes: number; chunks: number; stored: number; sent: boolean } | undefined> {
    const [f] = await this.#sql`select bytes, chunks, stored, sent from files
      where id = ${file} and owner = ${owner}`;
    return f
      ? { bytes: Number(f.bytes), chunks: f.chunks, stored: f.stored, sent: f.sent }
      : undefined;
  }
}
