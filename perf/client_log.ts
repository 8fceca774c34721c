/**
 * The per-client log of a load run, `clients/<user>.csv`: its columns
 * ({@link CSV_HEADER}), its events and {@link CsvLog}, which writes it.
 * One row per event: `message_id,event,time_ms,bytes,peer,kind` (`time_ms`
 * epoch milliseconds with three decimals; `kind` is `dm`, or the error code
 * of an `error` row). `log_reader.ts` reads it back.
 *
 * Rows are buffered in memory and appended in batches by {@link CsvLog.flush}
 * (one synchronous open/write/close per batch, never a write per row).
 *
 * @example
 * ```ts
 * import { CSV_HEADER, CsvLog } from "./client_log.ts";
 * const log = await CsvLog.create("/tmp/alice.csv");
 * log.add("m1", "sent", 1700000000000.5, 100, "bob", "dm");
 * await log.flush();
 * console.log(CSV_HEADER.join(",")); // message_id,event,time_ms,bytes,peer,kind
 * ```
 * @module
 */
import { stringify } from "csv-stringify/sync";
import { formatMs } from "./clock.ts";

/**
 * The columns of every client log, in order (its header line).
 *
 * @example
 * ```ts
 * import { CSV_HEADER } from "./client_log.ts";
 * CSV_HEADER.indexOf("time_ms"); // 2
 * ```
 */
export const CSV_HEADER = ["message_id", "event", "time_ms", "bytes", "peer", "kind"] as const;

/**
 * Event names of a client log, in the order of their numeric codes (`EV_*`).
 *
 * @example
 * ```ts
 * import { EV_RECEIVED, LOG_EVENTS } from "./client_log.ts";
 * LOG_EVENTS[EV_RECEIVED]; // "received"
 * ```
 */
export const LOG_EVENTS = ["sent", "acked", "received", "delivered", "error"] as const;
/**
 * One of {@link LOG_EVENTS}.
 *
 * @example
 * ```ts
 * import type { LogEvent } from "./client_log.ts";
 * const e: LogEvent = "delivered";
 * ```
 */
export type LogEvent = typeof LOG_EVENTS[number];

/**
 * `sent`: the client sent the message (code of {@link LOG_EVENTS}).
 *
 * @example
 * ```ts
 * import { EV_SENT, LOG_EVENTS } from "./client_log.ts";
 * LOG_EVENTS[EV_SENT]; // "sent"
 * ```
 */
export const EV_SENT = 0;
/**
 * `acked`: the server accepted the message.
 *
 * @example
 * ```ts
 * import { EV_ACKED, LOG_EVENTS } from "./client_log.ts";
 * LOG_EVENTS[EV_ACKED]; // "acked"
 * ```
 */
export const EV_ACKED = 1;
/**
 * `received`: the recipient decrypted it.
 *
 * @example
 * ```ts
 * import { EV_RECEIVED, LOG_EVENTS } from "./client_log.ts";
 * LOG_EVENTS[EV_RECEIVED]; // "received"
 * ```
 */
export const EV_RECEIVED = 2;
/**
 * `delivered`: the sender got the delivery receipt.
 *
 * @example
 * ```ts
 * import { EV_DELIVERED, LOG_EVENTS } from "./client_log.ts";
 * LOG_EVENTS[EV_DELIVERED]; // "delivered"
 * ```
 */
export const EV_DELIVERED = 3;
/**
 * `error`: any failure; the code is in `kind`.
 *
 * @example
 * ```ts
 * import { EV_ERROR, LOG_EVENTS } from "./client_log.ts";
 * LOG_EVENTS[EV_ERROR]; // "error"
 * ```
 */
export const EV_ERROR = 4;

/** The bytes of each event name followed by a comma, by name. */
const EVENT_BYTES = new Map<string, Uint8Array>(
  LOG_EVENTS.map((e) => [e, new TextEncoder().encode(e + ",")]),
);
const encoder = new TextEncoder();
const COMMA = 0x2c;
const NEWLINE = 0x0a;
/** Bytes of buffer a client's log starts with (it doubles when a second's rows need more). */
const INITIAL_BYTES = 16 * 1024;

/**
 * A client's CSV file: the header is written on {@link CsvLog.create},
 * rows are buffered and appended by {@link CsvLog.flush}.
 *
 * Rows are written as bytes straight into one growing buffer per client
 * (no string per row): a load worker logs ~4 rows per message, and rows
 * held as strings until the next flush (up to a second) were most of what
 * each of the worker's scavenges had to copy. A field that needs quoting
 * (or is not ASCII) takes the general path through csv-stringify.
 *
 * @example
 * ```ts
 * import { CsvLog } from "./client_log.ts";
 * const log = await CsvLog.create("/tmp/alice.csv");
 * log.add("m1", "sent", 1700000000000.5, 100, "bob", "dm");
 * await log.flush();
 * ```
 */
export class CsvLog {
  #buf = new Uint8Array(INITIAL_BYTES);
  #len = 0;
  #rows = 0;

  private constructor(readonly path: string) {}

  /** Creates (truncates) the file with the header line. */
  static async create(path: string): Promise<CsvLog> {
    await Deno.writeTextFile(path, stringify([CSV_HEADER as unknown as string[]]));
    return new CsvLog(path);
  }

  /** Buffered rows not yet written. */
  get pending(): number {
    return this.#rows;
  }

  /** Buffers one row; `time` is a {@link nowMs} time. */
  add(
    id: string,
    event: LogEvent,
    time: number,
    bytes: number | "",
    peer: string,
    kind: string,
  ): void {
    this.#rows++;
    const start = this.#len;
    // Ids, user names and codes never need quoting; anything else goes through csv-stringify.
    if (
      this.#plain(id) && this.#put(EVENT_BYTES.get(event)!) && this.#time(time) &&
      this.#count(bytes) && this.#plain(peer) && this.#plain(kind)
    ) {
      this.#buf[this.#len - 1] = NEWLINE; // the last field's comma ends the row
      return;
    }
    this.#len = start;
    const row = stringify([[id, event, formatMs(time), bytes, peer, kind]]);
    this.#room(row.length * 3);
    this.#len += encoder.encodeInto(row, this.#buf.subarray(this.#len)).written;
  }

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
    grown.set(this.#buf.subarray(0, this.#len));
    this.#buf = grown;
  }

  /** Writes `s` and a comma if it needs no quoting and is ASCII; false (partly written) if not. */
  #plain(s: string): boolean {
    this.#room(s.length + 1);
    const b = this.#buf;
    let at = this.#len;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80 || c === COMMA || c === 0x22 || c === NEWLINE || c === 0x0d) return false;
      b[at++] = c;
    }
    b[at++] = COMMA;
    this.#len = at;
    return true;
  }

  #put(bytes: Uint8Array): boolean {
    this.#room(bytes.length);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
    return true;
  }

  /** A non-negative integer's digits and a comma. */
  #digits(n: number): void {
    this.#room(18);
    if (n < 1e8) {
      this.#len = this.#int32(n, 0) + 1;
    } else {
      // Two int32 halves: integer division by 10 of an int32 is a multiply,
      // of a double a division (an epoch time in µs has 16 digits).
      const hi = Math.floor(n / 1e8);
      this.#len = this.#int32(n - hi * 1e8, 8, this.#int32(hi, 0)) + 1;
    }
    this.#buf[this.#len - 1] = COMMA;
  }

  /** Writes `n` (0 ≤ n < 10⁸) at `at` (default: the end), zero-padded to `width`; returns the end. */
  #int32(n: number, width: number, at: number = this.#len): number {
    let k = n | 0;
    let len = 1;
    for (let m = k; m >= 10; m = (m / 10) | 0) len++;
    if (len < width) len = width;
    const b = this.#buf;
    const end = at + len;
    for (let i = end - 1; i >= at; i--) {
      const q = (k / 10) | 0;
      b[i] = 0x30 + k - q * 10;
      k = q;
    }
    return end;
  }

  /** `time` with three decimals (as {@link formatMs}) and a comma; false for what it cannot write. */
  #time(time: number): boolean {
    const micros = Math.round(time * 1000);
    if (!(micros >= 0 && micros <= Number.MAX_SAFE_INTEGER)) return false;
    const ms = Math.floor(micros / 1000);
    const frac = micros - ms * 1000;
    this.#digits(ms);
    this.#room(4);
    const b = this.#buf;
    b[this.#len - 1] = 0x2e; // "." replaces the comma
    b[this.#len] = 0x30 + Math.floor(frac / 100);
    b[this.#len + 1] = 0x30 + (Math.floor(frac / 10) % 10);
    b[this.#len + 2] = 0x30 + (frac % 10);
    b[this.#len + 3] = COMMA;
    this.#len += 4;
    return true;
  }

  #count(bytes: number | ""): boolean {
    if (bytes === "") return this.#put(EMPTY_FIELD);
    if (!(Number.isSafeInteger(bytes) && bytes >= 0)) return false;
    this.#digits(bytes);
    return true;
  }

  /**
   * Appends the buffered rows in one synchronous write (a few KiB into the
   * page cache take microseconds; Deno's async file write costs tens of µs
   * of CPU in thread-pool hand-offs, per client and flush); rejects if the
   * write fails (the rows are then dropped).
   */
  flush(): Promise<void> {
    if (this.#len === 0) return Promise.resolve();
    const data = this.#buf.subarray(0, this.#len);
    this.#len = 0;
    this.#rows = 0;
    try {
      Deno.writeFileSync(this.path, data, { append: true });
    } catch (e) {
      return Promise.reject(e);
    }
    return Promise.resolve();
  }
}

const EMPTY_FIELD = new Uint8Array([COMMA]);
