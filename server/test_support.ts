/**
 * Test support (not published): throwaway databases on PGlite and real
 * PostgreSQL, and chat server processes that tests start, kill and restart.
 *
 * @example
 * ```ts
 * import { DB_KINDS, openTestDb, startServerProcess } from "./test_support.ts";
 * const db = await openTestDb(DB_KINDS[0]);
 * const server = await startServerProcess(db.url);
 * server.proc.kill("SIGKILL");
 * await db.close();
 * ```
 * @module
 */
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { connectStore } from "@fastchat/db/connect";
import { EmbeddedDatabase } from "@fastchat/db/embedded";
import { migrate } from "@fastchat/db/migrate";
import { encodeFrame, FrameDecoder } from "@fastchat/lib/frame";
import { ManagedProcess } from "@fastchat/lib/managed_process";
import { SERVER_V8_FLAGS } from "@fastchat/lib/runtime_flags";
import { decodeServerFrame, type ServerFrame } from "@fastchat/lib/protocol";
import { ChatServer, type ChatServerOptions } from "./chat_server.ts";
import { Packr } from "msgpackr";
import { SERVER_READY } from "@fastchat/lib/cluster/ready_lines";

/** Kinds of database the suite runs against. */
export type DbKind = "pglite" | "postgres";

/** PostgreSQL used for tests when set (CI sets it). */
export const TEST_PG_URL: string | undefined = Deno.env.get("FASTCHAT_TEST_DATABASE_URL");

/** PGlite always; real PostgreSQL when `FASTCHAT_TEST_DATABASE_URL` is set. */
export const DB_KINDS: DbKind[] = TEST_PG_URL ? ["pglite", "postgres"] : ["pglite"];

/** A throwaway, migrated database. */
export interface TestDb {
  kind: DbKind;
  url: string;
  close(): Promise<void>;
}

/** Creates an empty, migrated database of `kind`. */
export async function openTestDb(kind: DbKind): Promise<TestDb> {
  if (kind === "pglite") {
    const db = await EmbeddedDatabase.start({ port: 0 });
    return { kind, url: db.url, close: () => db.close() };
  }
  const name = `fc_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = postgres(TEST_PG_URL!, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const u = new URL(TEST_PG_URL!);
  u.pathname = `/${name}`;
  const url = u.href;
  const sql = connectStore(url, { max: 1 });
  await migrate(sql);
  await sql.end();
  return {
    kind,
    url,
    close: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** A chat server child process. */
export interface ServerProcess {
  proc: ManagedProcess;
  host: string;
  port: number;
  id: string;
}

/**
 * Starts `server/main.ts` as a real process on an ephemeral (or given) port
 * with a cheap scrypt cost so tests stay fast.
 */
export async function startServerProcess(
  dbUrl: string,
  opts: { port?: number; id?: string; args?: string[] } = {},
): Promise<ServerProcess> {
  const args = [
    "run",
    "-A",
    SERVER_V8_FLAGS,
    fileURLToPath(new URL("./main.ts", import.meta.url)),
    "--port",
    String(opts.port ?? 0),
    "--scrypt-n",
    "1024",
    ...(opts.id ? ["--id", opts.id] : []),
    ...(opts.args ?? []),
  ];
  const proc = await ManagedProcess.spawn({
    name: "server",
    args,
    ready: SERVER_READY,
    env: { DATABASE_URL: dbUrl }, // not argv: the URL holds the database password
  });
  return { proc, id: proc.match[1], host: proc.match[2], port: Number(proc.match[3]) };
}

/** Collects client events and waits for them (no sleeps). */
export class EventLog<E extends { event: string }> {
  readonly events: E[] = [];
  #waiters: { check: () => boolean; resolve: () => void }[] = [];

  /** Records an event (pass as `onEvent`). */
  push = (e: E): void => {
    this.events.push(e);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.check()) return true;
      w.resolve();
      return false;
    });
  };

  /** Waits until `n` recorded events match `pred`; resolves with them. */
  waitForCount(pred: (e: E) => boolean, n: number, timeoutMs = 20_000): Promise<E[]> {
    const matching = () => this.events.filter(pred);
    if (matching().length >= n) return Promise.resolve(matching());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `timed out: ${matching().length}/${n} matching events; last: ${
              JSON.stringify(this.events.slice(-5)).slice(0, 2000)
            }`,
          ),
        );
      }, timeoutMs);
      const waiter = {
        check: () => matching().length >= n,
        resolve: () => {
          clearTimeout(timer);
          resolve(matching());
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /** Resolves with the first recorded event matching `pred`. */
  async waitFor(pred: (e: E) => boolean, timeoutMs = 20_000): Promise<E> {
    return (await this.waitForCount(pred, 1, timeoutMs))[0];
  }
}

/** A raw protocol peer for testing how servers treat bad input. */
export class RawPeer {
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<void>;
  #waiters: (() => void)[] = [];
  #conn: Deno.TcpConn;
  #ended = false;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.closed = this.#read();
  }

  /** Connects to `host:port`. */
  static async connect(host: string, port: number): Promise<RawPeer> {
    return new RawPeer(await Deno.connect({ hostname: host, port }));
  }

  /** Whether the server closed the connection. */
  get ended(): boolean {
    return this.#ended;
  }

  async #read(): Promise<void> {
    const dec = new FrameDecoder(16 * 1024 * 1024);
    const buf = new Uint8Array(65536);
    try {
      while (true) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        for (const f of dec.push(buf.subarray(0, n))) this.frames.push(decodeServerFrame(f));
        for (const w of this.#waiters.splice(0)) w();
      }
    } catch { /* reset */ }
    this.#ended = true;
    this.close(); // the server is done with it: release our end too
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Writes raw bytes (errors ignored: the server may have closed). */
  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    try {
      while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
    } catch { /* closed by server */ }
  }

  /** Sends a frame encoded as MessagePack, without client-side validation. */
  send(frame: Record<string, unknown>): Promise<void> {
    return this.write(encodeFrame(rawPackr.pack(frame)));
  }

  /** Waits for the first frame matching `pred`. */
  async waitFrame(pred: (f: ServerFrame) => boolean, timeoutMs = 15_000): Promise<ServerFrame> {
    return (await this.waitFrames(pred, 1, timeoutMs))[0];
  }

  /** Waits until `n` frames match `pred`. */
  async waitFrames(
    pred: (f: ServerFrame) => boolean,
    n: number,
    timeoutMs = 15_000,
  ): Promise<ServerFrame[]> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const got = this.frames.filter(pred);
      if (got.length >= n) return got;
      const left = deadline - Date.now();
      if (left <= 0 || this.#ended) {
        const seen = this.frames.map((f) => f.t === "error" ? `error:${f.code}` : f.t);
        throw new Error(
          `${got.length}/${n} matching frames (ended=${this.#ended}); got ${
            seen.slice(-20).join(",")
          }`,
        );
      }
      let t: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        t = setTimeout(r, left);
      });
      clearTimeout(t);
    }
  }

  /** Closes the socket. */
  close(): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}

const rawPackr = new Packr({ useRecords: false, mapsAsObjects: true });

/**
 * Runs `fn` with an in-process chat server on a free port over `db` (cheap
 * scrypt cost; `extra` overrides any option), and always closes it.
 */
export async function withChatServer(
  db: TestDb,
  extra: Partial<ChatServerOptions>,
  fn: (s: ChatServer) => Promise<void>,
): Promise<void> {
  const sql = connectStore(db.url, { max: 2 });
  const server = await ChatServer.start({
    sql,
    port: 0,
    scrypt: { N: 1024, r: 8, p: 1 },
    ...extra,
  });
  try {
    await fn(server);
  } finally {
    await server.close();
    await sql.end();
  }
}
