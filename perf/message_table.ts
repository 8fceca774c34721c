/**
 * Per-message state of a run while its client logs are read: first send
 * and first reception time, payload bytes, reception count and which
 * events were seen, plus error rows per code. The state lives in growable
 * typed arrays indexed through one `Map<string, number>`, so 10 million
 * rows need no per-row objects.
 *
 * @example
 * ```ts
 * import { EV_RECEIVED, EV_SENT } from "./client_log.ts";
 * import { MessageTable } from "./message_table.ts";
 * const t = new MessageTable();
 * t.add("m1", EV_SENT, 1000, 100, "bob", "dm");
 * t.add("m1", EV_RECEIVED, 1005, 100, "alice", "dm");
 * console.log(t.size, t.recvT[0] - t.sentT[0]); // 1 5
 * ```
 * @module
 */
import { EV_ACKED, EV_DELIVERED, EV_ERROR, EV_RECEIVED, EV_SENT } from "./client_log.ts";

/**
 * Error codes (in `kind`) that mean the recipient could not decrypt a message.
 *
 * @example
 * ```ts
 * import { CRYPTO_ERROR_CODES } from "./message_table.ts";
 * CRYPTO_ERROR_CODES.includes("DECRYPT_FAILED"); // true
 * ```
 */
export const CRYPTO_ERROR_CODES: readonly string[] = [
  "DECRYPT_FAILED",
  "BAD_SIGNATURE",
  "UNKNOWN_KEY",
];

/**
 * {@link MessageTable.flags} bit: a `sent` row was seen.
 *
 * @example
 * ```ts
 * import { F_SENT, MessageTable } from "./message_table.ts";
 * const t = new MessageTable();
 * const seen = (i: number) => (t.flags[i] & F_SENT) !== 0;
 * ```
 */
export const F_SENT = 1;
/**
 * {@link MessageTable.flags} bit: an `acked` row was seen.
 *
 * @example
 * ```ts
 * import { F_ACKED, MessageTable } from "./message_table.ts";
 * const t = new MessageTable();
 * const seen = (i: number) => (t.flags[i] & F_ACKED) !== 0;
 * ```
 */
export const F_ACKED = 2;
/**
 * {@link MessageTable.flags} bit: a `delivered` row was seen.
 *
 * @example
 * ```ts
 * import { F_DELIVERED, MessageTable } from "./message_table.ts";
 * const t = new MessageTable();
 * const seen = (i: number) => (t.flags[i] & F_DELIVERED) !== 0;
 * ```
 */
export const F_DELIVERED = 4;
/**
 * {@link MessageTable.flags} bit: an `error` row named the message.
 *
 * @example
 * ```ts
 * import { F_ERROR, MessageTable } from "./message_table.ts";
 * const t = new MessageTable();
 * const seen = (i: number) => (t.flags[i] & F_ERROR) !== 0;
 * ```
 */
export const F_ERROR = 8;

const CRYPTO = new Set(CRYPTO_ERROR_CODES);

/**
 * The messages of a run, row by row. Message `i` (`0 ≤ i < size`, in order
 * of first appearance) has its values at index `i` of the arrays; times and
 * bytes are NaN until seen.
 *
 * @example
 * ```ts
 * import { EV_ERROR } from "./client_log.ts";
 * import { MessageTable } from "./message_table.ts";
 * const t = new MessageTable(16);
 * t.add("", EV_ERROR, 1, 0, "", "DECRYPT_FAILED");
 * console.log(t.errorRows, t.undecryptable, t.errorsByCode); // 1 1 Map { "DECRYPT_FAILED" => 1 }
 * ```
 */
export class MessageTable {
  #ids = new Map<string, number>();
  #n = 0;
  #cap: number;
  #sentT: Float64Array;
  #recvT: Float64Array;
  #bytes: Float64Array;
  #recvCount: Uint32Array;
  #flags: Uint8Array;
  /** Error rows per code (`UNSPECIFIED` when `kind` is empty). */
  readonly errorsByCode: Map<string, number> = new Map();
  /** All error rows. */
  errorRows = 0;
  /** Error rows with a code of {@link CRYPTO_ERROR_CODES}. */
  undecryptable = 0;

  /** `capacity`: messages before the first growth (at least 16). */
  constructor(capacity = 4096) {
    this.#cap = Math.max(16, capacity);
    this.#sentT = new Float64Array(this.#cap).fill(NaN);
    this.#recvT = new Float64Array(this.#cap).fill(NaN);
    this.#bytes = new Float64Array(this.#cap).fill(NaN);
    this.#recvCount = new Uint32Array(this.#cap);
    this.#flags = new Uint8Array(this.#cap);
  }

  /** Messages seen. */
  get size(): number {
    return this.#n;
  }
  /** First send time per message (epoch ms). */
  get sentT(): Float64Array {
    return this.#sentT;
  }
  /** First reception time per message (epoch ms). */
  get recvT(): Float64Array {
    return this.#recvT;
  }
  /** Payload bytes per message (from its send, else its first reception). */
  get bytes(): Float64Array {
    return this.#bytes;
  }
  /** `received` rows per message. */
  get recvCount(): Uint32Array {
    return this.#recvCount;
  }
  /** `F_*` bits per message. */
  get flags(): Uint8Array {
    return this.#flags;
  }

  #grow(): void {
    const cap = this.#cap * 2;
    const f64 = (old: Float64Array) => {
      const a = new Float64Array(cap);
      a.set(old);
      a.fill(NaN, old.length);
      return a;
    };
    this.#sentT = f64(this.#sentT);
    this.#recvT = f64(this.#recvT);
    this.#bytes = f64(this.#bytes);
    const rc = new Uint32Array(cap);
    rc.set(this.#recvCount);
    this.#recvCount = rc;
    const fl = new Uint8Array(cap);
    fl.set(this.#flags);
    this.#flags = fl;
    this.#cap = cap;
  }

  #index(id: string): number {
    let i = this.#ids.get(id);
    if (i === undefined) {
      i = this.#n++;
      if (i >= this.#cap) this.#grow();
      this.#ids.set(id, i);
    }
    return i;
  }

  /** Adds one row (`event` is an `EV_*` code of `client_log.ts`). */
  add(
    id: string,
    event: number,
    timeMs: number,
    bytes: number,
    _peer: string,
    kind: string,
  ): void {
    if (event === EV_ERROR) {
      this.errorRows++;
      const code = kind === "" ? "UNSPECIFIED" : kind;
      this.errorsByCode.set(code, (this.errorsByCode.get(code) ?? 0) + 1);
      if (CRYPTO.has(code)) this.undecryptable++;
      if (id !== "") this.#flags[this.#index(id)] |= F_ERROR;
      return;
    }
    const i = this.#index(id);
    switch (event) {
      case EV_SENT: {
        const t = this.#sentT[i];
        if (!(t <= timeMs)) this.#sentT[i] = timeMs; // first send wins (NaN-safe)
        this.#flags[i] |= F_SENT;
        this.#bytes[i] = bytes;
        break;
      }
      case EV_RECEIVED: {
        const t = this.#recvT[i];
        if (!(t <= timeMs)) this.#recvT[i] = timeMs;
        this.#recvCount[i]++;
        if (Number.isNaN(this.#bytes[i])) this.#bytes[i] = bytes;
        break;
      }
      case EV_ACKED:
        this.#flags[i] |= F_ACKED;
        break;
      case EV_DELIVERED:
        this.#flags[i] |= F_DELIVERED;
        break;
    }
  }
}
