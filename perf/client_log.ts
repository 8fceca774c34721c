/**
 * The per-client log of a load run, `clients/<user>.csv`: its columns
 * ({@link CSV_HEADER}), its events and {@link CsvLog}, which writes it.
 * One row per event: `message_id,event,time_ms,bytes,peer,kind` (`time_ms`
 * epoch milliseconds with three decimals; `kind` is `dm`, or the error code
 * of an `error` row). `log_reader.ts` reads it back.
 *
 * Rows are buffered in memory and appended in batches by {@link CsvLog.flush}
 * (one open/write/close per batch, never a write per row).
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

/** A CSV field that needs no quoting. */
const PLAIN = /^[^",\r\n]*$/;

/**
 * A client's CSV file: the header is written on {@link CsvLog.create},
 * rows are buffered and appended by {@link CsvLog.flush}.
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
  #lines: string[] = [];
  #chain: Promise<void> = Promise.resolve();

  private constructor(readonly path: string) {}

  /** Creates (truncates) the file with the header line. */
  static async create(path: string): Promise<CsvLog> {
    await Deno.writeTextFile(path, stringify([CSV_HEADER as unknown as string[]]));
    return new CsvLog(path);
  }

  /** Buffered rows not yet written. */
  get pending(): number {
    return this.#lines.length;
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
    const time3 = formatMs(time);
    // Ids, user names and codes never need quoting; anything else goes through csv-stringify.
    if (PLAIN.test(id) && PLAIN.test(peer) && PLAIN.test(kind)) {
      this.#lines.push(`${id},${event},${time3},${bytes},${peer},${kind}\n`);
    } else this.#lines.push(stringify([[id, event, time3, bytes, peer, kind]]));
  }

  /** Appends the buffered rows in one write; flushes are serialized. */
  flush(): Promise<void> {
    if (this.#lines.length === 0) return this.#chain;
    const text = this.#lines.join("");
    this.#lines = [];
    this.#chain = this.#chain.then(() => Deno.writeTextFile(this.path, text, { append: true }));
    return this.#chain;
  }
}
