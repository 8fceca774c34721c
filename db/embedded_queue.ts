/**
 * The one-at-a-time executor behind the embedded server. PGlite is a single
 * backend, so units of work from all client connections (a startup packet, a
 * simple Query, an extended-protocol batch up to its Sync or Flush) pass
 * through one FIFO queue and run whole, never interleaved. While a
 * connection holds an open transaction (or an extended batch awaiting its
 * Sync) only that connection's units run; when it closes, its transaction is
 * rolled back and its prepared statements are closed.
 *
 * @example
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { UnitQueue } from "./embedded_queue.ts";
 * const queue = new UnitQueue({ onFatal: console.error });
 * queue.attach(await PGlite.create()); // work scheduled before this waits
 * console.log(queue.stats().units); // 0
 * ```
 * @module
 */
import type { PGlite } from "@electric-sql/pglite";
import { closeStatementMessage, parseMessage, queryMessage, syncMessage } from "./wire.ts";

/** What {@link QueueClient.takeBatch} hands over: units to run in one call. */
export interface Batch {
  /** Concatenated protocol messages. */
  bytes: Uint8Array;
  /** How many units the bytes hold. */
  units: number;
  /** Tag of the last unit's final message (`S`, `H`, `Q`, `F`), or 0 for startup. */
  last: number;
}

/** A client connection as the queue sees it. */
export interface QueueClient {
  /** Connection number, for stats and logs. */
  readonly id: number;
  /** True once the socket is gone; the queue then runs its cleanup. */
  readonly closed: boolean;
  /** Named prepared statements the client created and has not closed. */
  readonly statements: ReadonlySet<string>;
  /** Whether a unit is waiting and output is not backed up. */
  runnable(): boolean;
  /** Removes and returns the next units to run (merged when small). */
  takeBatch(): Batch | undefined;
  /** Receives backend output (already copied). */
  deliver(data: Uint8Array): void;
  /** Called after each batch (e.g. to resume reading or finish a Terminate). */
  afterBatch(): void;
  /** Ends the connection with a FATAL error (e.g. idle in transaction). */
  kill(code: string, message: string): void;
}

/** Options of {@link UnitQueue}. */
export interface UnitQueueOptions {
  /** Called once when PGlite fails; the server must then shut down. */
  onFatal: (error: unknown) => void;
  /** Kill a connection that holds the backend idle this long (ms; 0 = never). */
  idleLockTimeoutMs?: number;
}

/** Counters of {@link UnitQueue}. */
export interface QueueStats {
  /** Units executed (startup packets, queries, extended batches, cleanups). */
  units: number;
  /** PGlite protocol calls (small units of one connection are merged). */
  calls: number;
  /** Connections with work waiting for their turn. */
  waiting: number;
  /** Connection holding the backend (transaction or pending extended batch). */
  lockedBy: number | null;
}

const T_FLUSH = 0x48; // 'H'
const T_SYNC = 0x53; // 'S'
const ABORT_SQL = "-- FastChat embedded: connection closed mid-statement\nfastchat_abort";

/**
 * Serialises protocol units of many clients onto one PGlite instance.
 *
 * @example
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { UnitQueue } from "./embedded_queue.ts";
 * const queue = new UnitQueue({ onFatal: () => Deno.exit(1) });
 * queue.attach(await PGlite.create());
 * await queue.idle();
 * ```
 */
export class UnitQueue {
  #db: PGlite | undefined;
  #opts: UnitQueueOptions;
  #ready = new Set<QueueClient>(); // FIFO: insertion order
  #owner: QueueClient | null = null;
  #midExtended = new WeakSet<QueueClient>();
  #running = false;
  #pumping: Promise<void> = Promise.resolve();
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #failed = false;
  #units = 0;
  #calls = 0;

  /** Creates an idle queue; work is held until {@link UnitQueue.attach}. */
  constructor(opts: UnitQueueOptions) {
    this.#opts = opts;
  }

  /** Hands over the open (and migrated) PGlite and starts running held work. */
  attach(db: PGlite): void {
    this.#db = db;
    if (this.#ready.size > 0 && !this.#running) this.#pumping = this.#pump();
  }

  /** Marks `client` as having work (or as closed) and runs the queue. */
  schedule(client: QueueClient): void {
    if (this.#failed) return;
    if (client === this.#owner) this.#clearIdleTimer();
    this.#ready.add(client);
    // #running is set and cleared synchronously inside #pump, so work added
    // while it runs is always seen by its loop or starts a new pump.
    if (!this.#running && this.#db) this.#pumping = this.#pump();
  }

  /** Resolves when nothing is running (e.g. before closing PGlite). */
  async idle(): Promise<void> {
    while (this.#running) await this.#pumping;
  }

  /** Stops timers; queued work is dropped. */
  stop(): void {
    this.#failed = true;
    this.#clearIdleTimer();
    this.#ready.clear();
  }

  /** Current counters. */
  stats(): QueueStats {
    return {
      units: this.#units,
      calls: this.#calls,
      waiting: this.#ready.size,
      lockedBy: this.#owner?.id ?? null,
    };
  }

  #next(): QueueClient | undefined {
    const owner = this.#owner;
    if (owner) {
      if (!this.#ready.has(owner) || !(owner.closed || owner.runnable())) return undefined;
      this.#ready.delete(owner);
      return owner;
    }
    for (const c of this.#ready) {
      this.#ready.delete(c);
      if (c.closed || c.runnable()) return c;
      // not runnable (no work, or output backed up): it is scheduled again later
    }
    return undefined;
  }

  async #pump(): Promise<void> {
    this.#running = true;
    try {
      for (let c = this.#next(); c && !this.#failed; c = this.#next()) {
        if (c.closed) await this.#cleanup(c);
        else await this.#runBatch(c);
      }
      this.#armIdleTimer();
    } catch (e) {
      this.#failed = true;
      this.#clearIdleTimer();
      this.#opts.onFatal(e);
    } finally {
      this.#running = false;
    }
  }

  async #exec(bytes: Uint8Array, sink?: (d: Uint8Array) => void): Promise<void> {
    this.#calls++;
    const db = this.#db!;
    await db.runExclusive(() =>
      db.execProtocolRawStream(bytes, {
        onRawData: sink ? (d) => sink(d.slice()) : () => {},
      })
    );
  }

  async #runBatch(c: QueueClient): Promise<void> {
    const batch = c.takeBatch();
    if (!batch) return;
    this.#units += batch.units;
    await this.#exec(batch.bytes, (d) => c.deliver(d));
    if (batch.last === T_FLUSH) this.#midExtended.add(c);
    else if (batch.last === T_SYNC || batch.last === 0) this.#midExtended.delete(c);
    const holds = this.#db!.isInTransaction() || this.#midExtended.has(c);
    this.#owner = holds ? c : null;
    if (c.closed) this.#ready.add(c); // closed while running: clean up next
    else if (c.runnable()) this.#ready.add(c); // more work: back of the line
    c.afterBatch();
  }

  async #cleanup(c: QueueClient): Promise<void> {
    const parts: Uint8Array[] = [];
    if (this.#owner === c) {
      // Abort an unfinished extended batch (its implicit transaction must not
      // commit), then roll back any explicit transaction.
      if (this.#midExtended.has(c)) parts.push(parseMessage("", ABORT_SQL), syncMessage());
      parts.push(queryMessage("ROLLBACK"));
    }
    for (const name of c.statements) parts.push(closeStatementMessage(name));
    if (c.statements.size > 0) parts.push(syncMessage());
    this.#midExtended.delete(c);
    if (parts.length > 0) {
      this.#units++;
      await this.#exec(concat(parts));
    }
    if (this.#owner === c) this.#owner = this.#db!.isInTransaction() ? c : null;
    if (this.#owner === c) throw new Error(`could not roll back connection ${c.id}`);
  }

  #armIdleTimer(): void {
    const owner = this.#owner;
    const ms = this.#opts.idleLockTimeoutMs ?? 0;
    if (!owner || owner.closed || ms <= 0 || this.#failed || this.#idleTimer) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#owner === owner && !owner.closed) {
        owner.kill("25P03", "terminating connection due to idle-in-transaction timeout");
      }
    }, ms);
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}

/**
 * Concatenates byte arrays.
 *
 * @example
 * ```ts
 * import { concat } from "./embedded_queue.ts";
 * concat([new Uint8Array([1]), new Uint8Array([2, 3])]); // Uint8Array [1, 2, 3]
 * ```
 */
export function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
