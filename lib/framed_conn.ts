/**
 * A framed, backpressured connection over any Deno stream connection (TCP or
 * TLS). Inbound bytes are decoded into frame payloads; outbound frames go
 * through a bounded queue that is coalesced into as few writes as possible.
 *
 * @example
 * ```ts
 * import { FramedConnection } from "@fastchat/lib/framed_conn";
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 7701 });
 * const fc = new FramedConnection(conn, {
 *   onFrame: (payload) => console.log("frame of", payload.length, "bytes"),
 *   onClose: (err) => console.log("closed", err),
 * });
 * fc.start();
 * fc.sendPayload(new Uint8Array([1, 2, 3]));
 * ```
 * @module
 */
import { ByteSlab } from "./byte_slab.ts";
import { FastChatError } from "./errors.ts";
import { closeIfOpen } from "./already_gone.ts";
import { DEFAULT_MAX_FRAME, FRAME_HEADER_BYTES, FrameDecoder } from "./frame.ts";

const MAX_READ_SIZE = 64 * 1024;
/**
 * The bytes of a write (up to 8 KiB) come from a shared slab: each region is
 * written once and let go when the write is done (see byte_slab.ts).
 */
const writeBuffers = new ByteSlab(65_536);

/**
 * Socket reads and writes and frames in and out of every
 * {@link FramedConnection} in this process (frames per write is the batching
 * that matters most on loopback). Exposed by the server's metrics.
 *
 * @example
 * ```ts
 * import { ioStats } from "@fastchat/lib/framed_conn";
 * console.log(ioStats.framesOut / Math.max(1, ioStats.writes), "frames per write");
 * ```
 */
export const ioStats: IoStats = { reads: 0, writes: 0, framesIn: 0, framesOut: 0 };

/**
 * Counters of socket reads and writes and of frames in and out.
 *
 * @example
 * ```ts
 * import type { IoStats } from "@fastchat/lib/framed_conn";
 * const peerLinks: IoStats = { reads: 0, writes: 0, framesIn: 0, framesOut: 0 };
 * ```
 */
export interface IoStats {
  reads: number;
  writes: number;
  framesIn: number;
  framesOut: number;
}

/** Options of a {@link FramedConnection}. */
export interface FramedConnectionOptions {
  /** Called with each inbound payload; a returned promise pauses reading until it settles. */
  onFrame: (payload: Uint8Array) => void | Promise<void>;
  /** Called once when the connection is closed, with the reason if abnormal. */
  onClose?: (err?: FastChatError) => void;
  /** Inbound frame limit (default 1 MiB); change later via `decoder.maxFrame`. */
  maxFrame?: number;
  /**
   * Called when the inbound stream cannot be decoded (`FRAME_TOO_LARGE`):
   * the stream cannot be resynchronised, so the handler must {@link
   * FramedConnection.end} or close the connection (it may first queue an
   * error frame). Default: close with the error.
   */
  onDecodeError?: (err: FastChatError) => void;
  /** Outbound queue limit in bytes (default 8 MiB). */
  maxQueueBytes?: number;
  /** Called when a send would exceed `maxQueueBytes`; default closes with `SLOW_CONSUMER`. */
  onOverflow?: () => void;
  /**
   * Initial read buffer size (default 512 B: every connection holds one
   * while its read is pending, 5 MiB for 10,000 idle ones; a ping, a pong
   * or a direct message fits). It doubles, up to 64 KiB, each
   * time a read fills it. During a connection's first 16 reads (handshake and
   * login, after which most connections go quiet) any read that does not
   * fill it puts it back to this size; later it drops back only after 32
   * reads in a row that each used under an eighth of it: a buffer that
   * shrinks at once costs busy connections up to 75% more reads (measured).
   */
  readSize?: number;
  /** Close with `SLOW_CONSUMER` when a `writable()` waiter sees no progress this long (default 30 s). */
  writeStallMs?: number;
  /** Counters of a kind of connection (e.g. peer links), counted besides {@link ioStats}. */
  stats?: IoStats;
}

/**
 * Framed duplex connection with a bounded outbound queue.
 *
 * @example
 * ```ts
 * import { FramedConnection } from "@fastchat/lib/framed_conn";
 * declare const tcp: Deno.Conn;
 * const fc = new FramedConnection(tcp, { onFrame: () => {} });
 * fc.start();
 * await fc.writable(); // resolves once the queue has room
 * ```
 */
export class FramedConnection {
  /** The inbound frame decoder; raise `maxFrame` after authentication. */
  readonly decoder: FrameDecoder;
  /** The underlying connection. */
  readonly conn: Deno.Conn;
  readonly #opts: FramedConnectionOptions;
  readonly #maxQueue: number;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #writing = false;
  /** The scheduled flush that has not started yet. */
  #immediate: ReturnType<typeof setImmediate> | undefined;
  #closed = false;
  #waiters: (() => void)[] = [];
  #closeReason?: FastChatError;
  #written = 0;
  #ending = false;

  constructor(conn: Deno.Conn, opts: FramedConnectionOptions) {
    this.conn = conn;
    this.#opts = opts;
    this.decoder = new FrameDecoder(opts.maxFrame ?? DEFAULT_MAX_FRAME);
    this.#maxQueue = opts.maxQueueBytes ?? 8 * 1024 * 1024;
  }

  /** Whether the connection has been closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes queued for writing. */
  get queuedBytes(): number {
    return this.#queued;
  }

  /**
   * Starts the read loop; resolves when the peer or this side closes. Once
   * {@link end} was called, nothing more is decoded or dispatched (not even
   * frames already read in the same chunk): later bytes are read only to be
   * discarded, so that closing does not reset the connection and lose the
   * frames still being written.
   */
  async start(): Promise<void> {
    const initial = this.#opts.readSize ?? 512;
    let buf = new Uint8Array(initial);
    let smallReads = 0;
    let reads = 0;
    try {
      while (!this.#closed) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        ioStats.reads++;
        if (this.#opts.stats) this.#opts.stats.reads++;
        if (this.#ending) continue;
        const full = n === buf.length;
        let frames: Uint8Array[];
        try {
          frames = this.decoder.push(buf.subarray(0, n));
        } catch (e) {
          const err = FastChatError.from(e, "BAD_FRAME");
          this.#opts.onDecodeError?.(err);
          // The stream cannot be resynchronised: never decode it again.
          if (!this.#ending) this.close(err);
          continue;
        }
        ioStats.framesIn += frames.length;
        if (this.#opts.stats) this.#opts.stats.framesIn += frames.length;
        // Frames are copies, so the buffer may be replaced.
        if (full) {
          smallReads = 0;
          if (buf.length < MAX_READ_SIZE) buf = new Uint8Array(buf.length * 2);
        } else if (buf.length > initial) {
          smallReads = n < buf.length / 8 ? smallReads + 1 : 0;
          if (reads < 16 || smallReads >= 32) {
            buf = new Uint8Array(initial);
            smallReads = 0;
          }
        }
        reads++;
        for (let i = 0; i < frames.length && !this.#closed && !this.#ending; i++) {
          const r = this.#opts.onFrame(frames[i]);
          if (r) await r;
        }
      }
      // While ending, `end()` closes once the queue is written.
      if (!this.#ending) this.close();
    } catch (e) {
      this.close(this.#closed ? undefined : FastChatError.from(e, "CONNECTION_CLOSED"));
    }
  }

  /** Whether {@link end} was called: inbound frames are no longer decoded. */
  get ending(): boolean {
    return this.#ending || this.#closed;
  }

  /** Queues a payload with its length prefix; returns false if the connection is closed or over its limit. */
  sendPayload(payload: Uint8Array): boolean {
    if (this.#closed) return false;
    const size = FRAME_HEADER_BYTES + payload.length;
    if (this.#queued + size > this.#maxQueue) {
      if (this.#opts.onOverflow) this.#opts.onOverflow();
      else {
        this.close(
          new FastChatError("SLOW_CONSUMER", `outbound queue over ${this.#maxQueue} bytes`),
        );
      }
      return false;
    }
    this.#queue.push(payload);
    this.#queued += size;
    if (!this.#writing) this.#scheduleFlush();
    return true;
  }

  /**
   * Writes once the current event-loop turn is over, so every frame produced
   * in it, by any read or timer (a burst of deliveries, acks, receipts), goes
   * out in one write. (A microtask runs before the callbacks of other reads
   * completed in the same turn and splits the burst; measured: server CPU
   * per message fell from 49 to 36 µs with this.)
   */
  #scheduleFlush(): void {
    this.#writing = true;
    this.#immediate = setImmediate(this.#flushNow);
  }

  readonly #flushNow = (): void => {
    this.#immediate = undefined;
    this.#flush();
  };

  /**
   * Writes what is queued now instead of after the current turn, for a
   * caller that runs at the end of a turn already (a batch built in an
   * immediate): its frames leave in this loop iteration rather than the
   * next. Does nothing while a write is in progress (what is queued follows
   * it) or when nothing is queued.
   *
   * @example
   * ```ts
   * import { FramedConnection } from "@fastchat/lib/framed_conn";
   * declare const fc: FramedConnection;
   * setImmediate(() => {
   *   fc.sendPayload(new Uint8Array([1, 2, 3]));
   *   fc.flushQueued(); // written now, not in the next iteration's immediates
   * });
   * ```
   */
  flushQueued(): void {
    if (this.#immediate === undefined) return;
    clearImmediate(this.#immediate);
    this.#flushNow();
  }

  /**
   * Resolves when the outbound queue is below half its limit (or the
   * connection closed). A peer that reads nothing for `writeStallMs` while
   * someone waits here is disconnected as a slow consumer.
   */
  writable(): Promise<void> {
    if (this.#closed || this.#queued <= this.#maxQueue / 2) return Promise.resolve();
    return new Promise((resolve) => {
      const stall = this.#opts.writeStallMs ?? 30_000;
      let progress = this.#written;
      const timer = setInterval(() => {
        if (this.#written !== progress) {
          progress = this.#written;
          return;
        }
        this.close(new FastChatError("SLOW_CONSUMER", `peer read nothing for ${stall} ms`));
      }, stall);
      this.#waiters.push(() => {
        clearInterval(timer);
        resolve();
      });
    });
  }

  /** Resolves once everything queued so far has been written (or the connection closed). */
  async drain(): Promise<void> {
    while (!this.#closed && this.#queued > 0) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Writes everything queued (length prefixes added here), then schedules the next batch. */
  async #flush(): Promise<void> {
    if (this.#queue.length === 0 || this.#closed) {
      this.#writing = false;
      return;
    }
    try {
      const parts = this.#queue;
      const total = this.#queued;
      this.#queue = [];
      const out = writeBuffers.take(total); // written before the next flush of this connection
      let o = 0;
      for (const p of parts) {
        const n = p.length;
        out[o] = n >>> 24;
        out[o + 1] = (n >>> 16) & 0xff;
        out[o + 2] = (n >>> 8) & 0xff;
        out[o + 3] = n & 0xff;
        out.set(p, o + FRAME_HEADER_BYTES);
        o += FRAME_HEADER_BYTES + n;
      }
      ioStats.writes++;
      ioStats.framesOut += parts.length;
      if (this.#opts.stats) {
        this.#opts.stats.writes++;
        this.#opts.stats.framesOut += parts.length;
      }
      let off = 0;
      while (off < out.length) {
        const n = await this.conn.write(off === 0 ? out : out.subarray(off));
        off += n;
        this.#written += n;
      }
      if (this.#closed) return;
      this.#queued -= total;
      this.#wake();
    } catch (e) {
      this.close(FastChatError.from(e, "CONNECTION_CLOSED"));
      return;
    } finally {
      this.#writing = false;
    }
    if (this.#queue.length > 0 && !this.#closed) this.#scheduleFlush();
  }

  #wake(): void {
    if (this.#closed || this.#queued <= this.#maxQueue / 2) {
      const ws = this.#waiters;
      this.#waiters = [];
      for (const w of ws) w();
    }
  }

  /** Closes the connection (idempotent); queued bytes are dropped. */
  close(reason?: FastChatError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    this.#queue = [];
    this.#queued = 0;
    closeIfOpen(this.conn);
    this.#wake();
    this.#opts.onClose?.(reason);
  }

  /** Why the connection closed, if abnormally. */
  get closeReason(): FastChatError | undefined {
    return this.#closeReason;
  }

  /**
   * Writes what is queued, then closes (at the latest after `timeoutMs`).
   * From now on no inbound frame is decoded or dispatched.
   */
  async end(timeoutMs = 2000): Promise<void> {
    this.#ending = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.drain(),
      new Promise<void>((r) => timer = setTimeout(r, timeoutMs)),
    ]);
    clearTimeout(timer);
    this.close();
  }
}
