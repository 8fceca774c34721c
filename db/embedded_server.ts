/**
 * An embedded PGlite database served over the PostgreSQL wire protocol, so
 * postgres.js clients in other processes can use it like a real server.
 * Units of work from all connections run one at a time and whole (see
 * `embedded_queue.ts`); a connection inside a transaction has the backend to
 * itself until it commits, rolls back or disconnects (then it is rolled back).
 *
 * Each connection gets its own namespace of protocol-level prepared statements
 * (names are prefixed per connection and closed when it disconnects). Limits,
 * all inherent to one shared PGlite backend: session settings (`SET`) and
 * SQL-level `PREPARE`/`DEALLOCATE` are shared by all connections,
 * LISTEN/NOTIFY and query cancellation are not supported, and COPY FROM STDIN
 * is rejected.
 *
 * Clients must prove the database password with SCRAM-SHA-256 (see
 * `embedded_auth.ts`) before anything reaches PGlite. The password is kept in
 * the data directory (`credentials.ts`; the directory is made private, see
 * `private_dir.ts`), or, in memory, given or generated per start.
 *
 * @example
 * ```ts
 * import { EmbeddedDatabase } from "@fastchat/db/embedded";
 * const db = await EmbeddedDatabase.start({ port: 0 }); // in memory, ephemeral port
 * console.log(db.publicUrl); // postgres://postgres@127.0.0.1:<port>/postgres
 * console.log(db.url); // postgres://postgres:<password>@127.0.0.1:<port>/postgres
 * await db.close();
 * ```
 * @module
 */
import { createServer, type Server, type Socket } from "node:net";
import { PGlite } from "@electric-sql/pglite";
import { closeIfOpen } from "@fastchat/lib/already_gone";
import { ConnectionCaps } from "@fastchat/lib/connection_caps";
import { FastChatError } from "@fastchat/lib/errors";
import { addressInUse, isAddressInUse } from "@fastchat/lib/listener";
import { generatePassword, loadOrCreatePassword, withPassword } from "./credentials.ts";
import { type ByteCounters, ClientConnection } from "./embedded_connection.ts";
import { UnitQueue } from "./embedded_queue.ts";
import { migrateWith } from "./migrate.ts";
import { makePrivateDir } from "./private_dir.ts";
import { errorResponse } from "./wire.ts";
import { ScramVerifier } from "./scram.ts";

/** Options of {@link EmbeddedDatabase.start}. */
export interface EmbeddedOptions {
  /** Data directory (created if missing); undefined keeps the database in memory. */
  dataDir?: string;
  /** Interface to listen on (default `127.0.0.1`). */
  host?: string;
  /** TCP port (default 0: an ephemeral port, see {@link EmbeddedDatabase.port}). */
  port?: number;
  /**
   * Close a connection idle in a transaction (holding the backend) this
   * long; default 5 s, 0 = never. PGlite has one backend, so while a
   * client sits in a transaction every other connection waits: a chat
   * server frozen mid-transaction (SIGSTOP, a paused VM) would stall every
   * other server's writes until this ends. FastChat's own transactions
   * never wait on the client for more than a few milliseconds.
   */
  idleInTransactionTimeoutMs?: number;
  /**
   * Password clients must prove, only without `dataDir` (default: a fresh
   * random one); with a data directory it is the one kept there.
   */
  password?: string;
  /** Close a client that has not authenticated after this long (default 10 s). */
  authTimeoutMs?: number;
  /**
   * Connections still proving the password, at most (default 128): more
   * are refused with SQLSTATE 53300 before anything is read from them.
   */
  maxPreAuthConnections?: number;
}

/** Counters of a running {@link EmbeddedDatabase}. */
export interface EmbeddedStats {
  /** Open client connections. */
  connections: number;
  /** Connections accepted since start. */
  connectionsTotal: number;
  /** Protocol units executed (startup packets, queries, extended batches). */
  units: number;
  /** PGlite protocol calls (consecutive small units of one connection share a call). */
  calls: number;
  /** Connections whose work waits for its turn. */
  waiting: number;
  /** Connection holding the backend (in a transaction), or null. */
  lockedBy: number | null;
  /** Bytes received from clients. */
  bytesIn: number;
  /** Bytes sent to clients. */
  bytesOut: number;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Lock file that keeps a second process off the same data directory. */
const LOCK_FILE = ".fastchat-embedded.lock";

/**
 * Default of {@link EmbeddedOptions.idleInTransactionTimeoutMs}: shorter
 * than the store's 10 s connect timeout (`db/connect.ts`; a new connection's
 * start-up also waits for the backend), so one frozen server does not make
 * the others' connections time out.
 *
 * @example
 * ```ts
 * import { IDLE_IN_TRANSACTION_TIMEOUT_MS } from "@fastchat/db/embedded";
 * console.log(IDLE_IN_TRANSACTION_TIMEOUT_MS); // 5000
 * ```
 */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 5_000;

async function lockDataDir(dataDir: string): Promise<Deno.FsFile> {
  const file = await Deno.open(`${dataDir}/${LOCK_FILE}`, {
    read: true,
    write: true,
    create: true,
    mode: 0o600,
  });
  if (!await file.tryLock(true)) {
    file.close();
    throw new FastChatError(
      "STORE_UNAVAILABLE",
      `data directory ${dataDir} is in use by another embedded database`,
      { dataDir },
    );
  }
  await file.truncate(0);
  await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
  return file;
}

function unavailable(what: string, e: unknown, details: Record<string, unknown>): FastChatError {
  if (e instanceof FastChatError) return e;
  const text = e instanceof Error ? e.message : String(e);
  return new FastChatError("STORE_UNAVAILABLE", `${what}: ${text}`, details, { cause: e });
}

/**
 * A running embedded database server.
 *
 * @example
 * ```ts
 * import { EmbeddedDatabase } from "@fastchat/db/embedded";
 * import { connectStore } from "@fastchat/db";
 * const db = await EmbeddedDatabase.start({ dataDir: "./data/pglite", port: 7432 });
 * const sql = connectStore(db.url);
 * console.log(await sql`select count(*) as n from users`);
 * await sql.end();
 * await db.close();
 * ```
 */
export class EmbeddedDatabase {
  /** The interface it listens on. */
  readonly host: string;
  /** The data directory, or undefined when in memory. */
  readonly dataDir: string | undefined;
  /** Settles when the server stopped: resolves after {@link close}, rejects on a fatal PGlite error. */
  readonly closed: Promise<void>;
  #db: PGlite | undefined;
  #lock: Deno.FsFile | undefined;
  #server: Server;
  #queue: UnitQueue;
  #clients = new Set<ClientConnection>();
  #counters: ByteCounters = { bytesIn: 0, bytesOut: 0 };
  #accepted = 0;
  #port = 0;
  #password: string;
  #verifier: ScramVerifier;
  #authTimeoutMs: number | undefined;
  #preAuth: ConnectionCaps;
  #closing: Promise<void> | null = null;
  #settle!: { resolve: () => void; reject: (e: unknown) => void };

  private constructor(opts: EmbeddedOptions, lock: Deno.FsFile | undefined, password: string) {
    this.host = opts.host ?? "127.0.0.1";
    this.#password = password;
    this.#verifier = ScramVerifier.fromPassword(password);
    this.#authTimeoutMs = opts.authTimeoutMs;
    const cap = opts.maxPreAuthConnections ?? 128;
    this.#preAuth = new ConnectionCaps({ maxTotal: cap, maxPerAddress: cap });
    this.dataDir = opts.dataDir;
    this.#lock = lock;
    this.closed = new Promise((resolve, reject) => (this.#settle = { resolve, reject }));
    // Marks a fatal error handled here: it is reported to whoever awaits
    // `closed` (db/main.ts exits with it), and an embedder that never looks
    // (a test) must not die of an unhandled rejection.
    this.closed.catch(() => {});
    this.#queue = new UnitQueue({
      idleLockTimeoutMs: opts.idleInTransactionTimeoutMs ?? IDLE_IN_TRANSACTION_TIMEOUT_MS,
      onFatal: (e) => void this.#shutdown(e),
    });
    this.#server = createServer((socket: Socket) => this.#accept(socket));
  }

  /**
   * Makes the data directory private (creating it if missing), loads or
   * creates its password, locks it, starts listening (so a
   * taken port fails fast), opens PGlite and applies migrations in-process;
   * connections accepted meanwhile wait until the schema is ready. Throws
   * `FastChatError("ADDRESS_IN_USE")` when the port is taken,
   * `FastChatError("STORE_UNAVAILABLE")` when the data directory is in use
   * or unusable, `FastChatError("INVALID_CONFIG")` when both `dataDir` and
   * `password` are given.
   *
   * @example
   * ```ts
   * import { EmbeddedDatabase } from "@fastchat/db/embedded";
   * const db = await EmbeddedDatabase.start({ port: 0 });
   * console.log(db.port > 0); // true
   * await db.close();
   * ```
   */
  static async start(opts: EmbeddedOptions = {}): Promise<EmbeddedDatabase> {
    const { dataDir, port = 0 } = opts;
    if (dataDir !== undefined && opts.password !== undefined) {
      throw new FastChatError(
        "INVALID_CONFIG",
        "an embedded database with a data directory uses the password kept there",
        { dataDir },
      );
    }
    let lock: Deno.FsFile | undefined;
    let password = opts.password ?? generatePassword();
    try {
      if (dataDir !== undefined) {
        password = await loadOrCreatePassword(dataDir);
        lock = await lockDataDir(dataDir);
      }
    } catch (e) {
      throw unavailable(`cannot use data directory ${dataDir}`, e, { dataDir });
    }
    const self = new EmbeddedDatabase(opts, lock, password);
    try {
      await listen(self.#server, port, self.host);
    } catch (e) {
      await self.#shutdown(undefined);
      if (isAddressInUse(e)) throw addressInUse(self.host, port, "--port", e);
      throw unavailable(`cannot listen on ${self.host}:${port}`, e, { host: self.host, port });
    }
    const address = self.#server.address();
    self.#port = typeof address === "object" && address ? address.port : 0;
    let db: PGlite | undefined;
    try {
      db = self.#db = await PGlite.create(dataDir);
      await migrateWith((fn) =>
        db!.transaction((tx) =>
          fn({
            query: async (text, params) =>
              (await tx.query<Record<string, unknown>>(text, params)).rows,
            exec: async (text) => void await tx.exec(text),
          })
        )
      );
      if (dataDir !== undefined) await makePrivateDir(dataDir); // PGlite's new files too
    } catch (e) {
      await self.#shutdown(undefined);
      throw unavailable("cannot open embedded database", e, { dataDir });
    }
    self.#queue.attach(db);
    return self;
  }

  /** The TCP port it listens on. */
  get port(): number {
    return this.#port;
  }

  /** `postgres://postgres@host:port/postgres`: where it listens, without the password (for logs). */
  get publicUrl(): string {
    const host = this.host.includes(":") ? `[${this.host}]` : this.host;
    return `postgres://postgres@${host}:${this.port}/postgres`;
  }

  /** The connection URL with the password: `postgres://postgres:<password>@host:port/postgres`. */
  get url(): string {
    return withPassword(this.publicUrl, this.#password);
  }

  /** The password clients must prove. */
  get password(): string {
    return this.#password;
  }

  /** Current counters. */
  stats(): EmbeddedStats {
    return {
      connections: this.#clients.size,
      connectionsTotal: this.#accepted,
      ...this.#queue.stats(),
      ...this.#counters,
    };
  }

  /** Closes all connections (rolling back open transactions), stops listening and closes PGlite (flushing data). */
  close(): Promise<void> {
    return this.#shutdown(undefined);
  }

  #accept(socket: Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    // Every client of the embedded database is local: one cap for all.
    const slot = this.#preAuth.admit("any");
    if (!slot) {
      socket.end(
        errorResponse("FATAL", "53300", "too many connections are authenticating"),
        () => socket.destroy(),
      );
      return;
    }
    const client = new ClientConnection(
      ++this.#accepted,
      socket,
      this.#queue,
      { verifier: this.#verifier, timeoutMs: this.#authTimeoutMs, onAuthenticated: slot.release },
      this.#counters,
      (c) => {
        slot.release();
        this.#clients.delete(c);
      },
    );
    this.#clients.add(client);
  }

  #shutdown(error: unknown): Promise<void> {
    this.#closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => {
        if (this.#server.listening) this.#server.close(() => resolve());
        else resolve();
      });
      for (const c of this.#clients) c.destroy();
      this.#clients.clear();
      if (error === undefined) await this.#queue.idle();
      this.#queue.stop();
      await stopped;
      try {
        if (this.#db && !this.#db.closed) await this.#db.close();
      } catch (e) {
        error ??= e;
      }
      if (this.#lock) closeIfOpen(this.#lock); // closing the file releases the lock
      if (error === undefined) this.#settle.resolve();
      else this.#settle.reject(error);
    })();
    return this.#closing;
  }
}
