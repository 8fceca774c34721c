/**
 * One client connection of the embedded server: reads frontend messages from
 * its socket, groups them into atomic units (a startup packet, a simple
 * Query, an extended-protocol batch up to Sync or Flush) and hands them to
 * the shared {@link UnitQueue}; writes the backend's answers back.
 *
 * @example
 * ```ts
 * import { createServer } from "node:net";
 * import { PGlite } from "@electric-sql/pglite";
 * import { ClientConnection } from "./embedded_connection.ts";
 * import { UnitQueue } from "./embedded_queue.ts";
 * import { ScramVerifier } from "./scram.ts";
 * const queue = new UnitQueue({ onFatal: console.error });
 * queue.attach(await PGlite.create());
 * let ids = 0;
 * const verifier = ScramVerifier.fromPassword("secret");
 * createServer((socket) => new ClientConnection(++ids, socket, queue, { verifier })).listen(0);
 * ```
 * @module
 */
import type { Socket } from "node:net";
import { MAX_AUTH_MESSAGE_BYTES, StartupAuth } from "./embedded_auth.ts";
import { type Batch, concat, type QueueClient, type UnitQueue } from "./embedded_queue.ts";
import { StatementNamespace } from "./embedded_rewrite.ts";
import { ScramError, type ScramVerifier } from "./scram.ts";
import {
  CANCEL_REQUEST_CODE,
  errorResponse,
  type FrontendMessage,
  FrontendReader,
  GSSENC_REQUEST_CODE,
  MAX_MESSAGE_BYTES,
  SSL_REQUEST_CODE,
  WireError,
} from "./wire.ts";

const T_TERMINATE = 0x58; // 'X'
/** Messages that end a unit: Sync, Flush, Query, FunctionCall. */
const UNIT_END = new Set([0x53, 0x48, 0x51, 0x46]);
/** Merge consecutive small units of one connection up to this many bytes. */
const MERGE_BYTES = 1024 * 1024;
/** Stop reading while this many bytes of complete units wait to run. */
const PAUSE_BYTES = 96 * 1024 * 1024;
/** Largest unit (all messages up to a Sync) accepted; a batch never synced cannot grow forever. */
const MAX_UNIT_BYTES = 128 * 1024 * 1024;
/** Treat the socket as backed up past this much unsent output. */
const OUTPUT_HIGH_WATER = 8 * 1024 * 1024;
/** Default time a client has from connecting to proving the password. */
export const AUTH_TIMEOUT_MS = 10_000;
interface Unit {
  bytes: Uint8Array;
  last: number;
}

/** Per-connection byte counters, shared with the server's stats. */
export interface ByteCounters {
  /** Bytes received from clients. */
  bytesIn: number;
  /** Bytes sent to clients. */
  bytesOut: number;
}

/** How a {@link ClientConnection} authenticates its client. */
export interface ConnectionAuth {
  /** Keys of the password clients must prove (SCRAM-SHA-256). */
  verifier: ScramVerifier;
  /** Close a client that has not authenticated after this long (default {@link AUTH_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Called once, when the client has proved the password. */
  onAuthenticated?: () => void;
}

/**
 * A client socket speaking the PostgreSQL protocol to the shared backend.
 * Nothing the client sends reaches the backend before it proved the
 * password (see `embedded_auth.ts`); until then messages are limited to
 * {@link MAX_AUTH_MESSAGE_BYTES} and the whole exchange to `timeoutMs`.
 *
 * @example
 * ```ts
 * import { createServer } from "node:net";
 * import { PGlite } from "@electric-sql/pglite";
 * import { ClientConnection } from "./embedded_connection.ts";
 * import { UnitQueue } from "./embedded_queue.ts";
 * import { ScramVerifier } from "./scram.ts";
 * const queue = new UnitQueue({ onFatal: console.error });
 * queue.attach(await PGlite.create());
 * const verifier = ScramVerifier.fromPassword("secret");
 * createServer((socket) => new ClientConnection(1, socket, queue, { verifier })).listen(0);
 * ```
 */
export class ClientConnection implements QueueClient {
  /** Connection number. */
  readonly id: number;
  #names: StatementNamespace;
  #socket: Socket;
  #queue: UnitQueue;
  #counters: ByteCounters;
  #reader = new FrontendReader({ maxMessageBytes: MAX_AUTH_MESSAGE_BYTES });
  #auth: StartupAuth | null;
  #authTimer: ReturnType<typeof setTimeout> | undefined;
  /** The StartupMessage, held back until the password is proven. */
  #startup: Uint8Array | undefined;
  #partial: Uint8Array[] = [];
  #partialBytes = 0;
  #units: Unit[] = [];
  #queuedBytes = 0;
  #closed = false;
  #terminating = false;
  #paused = false;
  #onAuthenticated: (() => void) | undefined;

  /** Takes over `socket`; `onClose` runs once when it is gone. */
  constructor(
    id: number,
    socket: Socket,
    queue: UnitQueue,
    auth: ConnectionAuth,
    counters: ByteCounters = { bytesIn: 0, bytesOut: 0 },
    onClose?: (c: ClientConnection) => void,
  ) {
    this.id = id;
    this.#auth = new StartupAuth(auth.verifier);
    this.#onAuthenticated = auth.onAuthenticated;
    this.#authTimer = setTimeout(
      () => this.kill("08P01", "authentication timed out"),
      auth.timeoutMs ?? AUTH_TIMEOUT_MS,
    );
    this.#names = new StatementNamespace(`fc${id}.`);
    this.#socket = socket;
    this.#queue = queue;
    this.#counters = counters;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    socket.on("drain", () => this.#units.length > 0 && queue.schedule(this));
    socket.on("error", () => {}); // 'close' follows
    socket.on("close", () => {
      this.#markClosed();
      onClose?.(this);
    });
  }

  /** Named prepared statements (with this connection's prefix) created and not yet closed. */
  get statements(): ReadonlySet<string> {
    return this.#names.statements;
  }

  /** True once the socket is closed (or being destroyed). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Destroys the socket now; the queue rolls back and cleans up. */
  destroy(): void {
    this.#socket.destroy();
    this.#markClosed();
  }

  /** Sends a FATAL ErrorResponse and closes. */
  kill(code: string, text: string): void {
    if (this.#closed) return;
    this.#endSocket(errorResponse("FATAL", code, text));
  }

  /** Whether a unit waits and the socket is not backed up. */
  runnable(): boolean {
    return !this.#closed && this.#units.length > 0 &&
      this.#socket.writableLength < OUTPUT_HIGH_WATER;
  }

  /** Removes the next units: one startup packet, or several small units merged. */
  takeBatch(): Batch | undefined {
    const first = this.#units.shift();
    if (!first) return undefined;
    const parts = [first.bytes];
    let size = first.bytes.length;
    let last = first.last;
    while (last !== 0 && this.#units.length > 0) {
      const next = this.#units[0];
      if (next.last === 0 || size + next.bytes.length > MERGE_BYTES) break;
      this.#units.shift();
      parts.push(next.bytes);
      size += next.bytes.length;
      last = next.last;
    }
    this.#queuedBytes -= size;
    if (this.#paused && this.#queuedBytes < PAUSE_BYTES / 2) {
      this.#paused = false;
      this.#socket.resume();
    }
    return { bytes: concat(parts), units: parts.length, last };
  }

  /** Writes backend output to the socket. */
  deliver(data: Uint8Array): void {
    if (this.#closed || data.length === 0) return;
    this.#counters.bytesOut += data.length;
    this.#socket.write(data);
  }

  /** Finishes a Terminate once all units before it ran. */
  afterBatch(): void {
    if (this.#terminating && this.#units.length === 0 && !this.#closed) this.#endSocket();
  }

  /** Sends `last` (if any), then closes; queued work is dropped. */
  #endSocket(last?: Uint8Array): void {
    const socket = this.#socket;
    if (last) socket.end(last, () => socket.destroy());
    else socket.end(() => socket.destroy());
    this.#markClosed();
  }

  #markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#authTimer);
    this.#units = [];
    this.#partial = [];
    this.#partialBytes = 0;
    this.#queuedBytes = 0;
    this.#queue.schedule(this);
  }

  #onData(chunk: Uint8Array): void {
    if (this.#closed || this.#terminating) return;
    this.#counters.bytesIn += chunk.length;
    let messages: FrontendMessage[];
    try {
      messages = this.#reader.push(chunk);
    } catch (e) {
      if (e instanceof WireError) this.kill(e.sqlState, e.message);
      else this.kill("08P01", String(e));
      return;
    }
    let added = false;
    for (const m of messages) {
      if (this.#auth && m.type !== 0) {
        added = this.#onAuthMessage(m) || added;
        if (this.#closed) return;
        continue;
      }
      if (m.type === 0) added = this.#onStartupPacket(m) || added;
      else if (m.type === T_TERMINATE) {
        this.#terminating = true;
        break;
      } else added = this.#onMessage(m) || added;
      if (this.#closed) return;
    }
    if (this.#terminating) this.afterBatch();
    if (added) this.#queue.schedule(this);
    if (!this.#paused && this.#queuedBytes > PAUSE_BYTES) {
      this.#paused = true;
      this.#socket.pause();
    }
  }

  /** Returns true when a unit was queued. */
  #onStartupPacket(m: FrontendMessage): boolean {
    if (m.code === SSL_REQUEST_CODE || m.code === GSSENC_REQUEST_CODE) {
      this.#socket.write(new Uint8Array([0x4e])); // 'N': no encryption, go on in plain text
      return false;
    }
    if (m.code === CANCEL_REQUEST_CODE) {
      this.destroy(); // cancellation is not supported; the query just finishes
      return false;
    }
    if (m.code === undefined || m.code >>> 16 !== 3) {
      this.kill("0A000", `unsupported frontend protocol ${m.code! >>> 16}.${m.code! & 0xffff}`);
      return false;
    }
    if (this.#auth) {
      this.#startup = m.bytes.slice(); // held until the proof: not a view of the socket chunk
      this.#answerAuth(() => this.#auth!.begin(m.bytes));
      return false;
    }
    this.#push({ bytes: m.bytes, last: 0 });
    return true;
  }

  /** Sends what `reply` returns, or kills the connection on a {@link ScramError}. */
  #answerAuth(reply: () => Uint8Array): boolean {
    try {
      this.deliver(reply());
      return true;
    } catch (e) {
      if (e instanceof ScramError) this.kill(e.sqlState, e.message);
      else this.kill("08P01", String(e));
      return false;
    }
  }

  /** One message of the password exchange; returns true when the startup packet got queued. */
  #onAuthMessage(m: FrontendMessage): boolean {
    const auth = this.#auth!;
    if (m.type === T_TERMINATE) {
      this.destroy();
      return false;
    }
    if (!this.#answerAuth(() => auth.step(m)) || !auth.done) return false;
    this.#auth = null;
    clearTimeout(this.#authTimer);
    this.#onAuthenticated?.();
    this.#reader.maxMessageBytes = MAX_MESSAGE_BYTES;
    this.#push({ bytes: this.#startup!, last: 0 });
    this.#startup = undefined;
    return true;
  }

  /** Returns true when the message completed a unit. */
  #onMessage(m: FrontendMessage): boolean {
    const bytes = this.#names.rewrite(m.type, m.bytes);
    this.#partial.push(bytes);
    this.#partialBytes += bytes.length;
    if (this.#partialBytes > MAX_UNIT_BYTES) {
      this.kill("54000", `more than ${MAX_UNIT_BYTES} bytes of messages without a Sync`);
      return false;
    }
    if (!UNIT_END.has(m.type)) return false;
    const unit = { bytes: concat(this.#partial), last: m.type };
    this.#partial = [];
    this.#partialBytes = 0;
    this.#push(unit);
    return true;
  }

  #push(unit: Unit): void {
    this.#units.push(unit);
    this.#queuedBytes += unit.bytes.length;
  }
}
