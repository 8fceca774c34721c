/**
 * PostgreSQL wire protocol (v3) framing for the embedded server: splits a
 * client's byte stream into frontend messages, with bounded sizes, and builds
 * the few messages the server writes or injects itself.
 *
 * @example
 * ```ts
 * import { FrontendReader, queryMessage } from "./wire.ts";
 * const reader = new FrontendReader({ startup: false });
 * const [msg] = reader.push(queryMessage("select 1"));
 * console.log(String.fromCharCode(msg.type)); // "Q"
 * ```
 * @module
 */

/** Largest frontend message accepted (64 MiB); larger ones close the connection. */
export const MAX_MESSAGE_BYTES: number = 64 * 1024 * 1024;
/** Largest startup packet accepted (PostgreSQL's own limit). */
export const MAX_STARTUP_BYTES = 10_000;
/** Startup-packet code of an SSLRequest. */
export const SSL_REQUEST_CODE = 80877103;
/** Startup-packet code of a GSSENCRequest. */
export const GSSENC_REQUEST_CODE = 80877104;
/** Startup-packet code of a CancelRequest. */
export const CANCEL_REQUEST_CODE = 80877102;

/** One frontend message: `type` is its tag byte (0 for startup-phase packets). */
export interface FrontendMessage {
  /** Tag byte, e.g. `0x51` for `Q`; 0 for a startup-phase packet. */
  type: number;
  /** The whole message including its header, ready to forward. */
  bytes: Uint8Array;
  /** For startup-phase packets: the protocol version or request code. */
  code?: number;
}

/** A framing violation: the connection must be closed. */
export class WireError extends Error {
  /** SQLSTATE to report: `08P01` (protocol violation) or `54000` (too large). */
  readonly sqlState: string;
  /**
   * @example
   * ```ts
   * import { WireError } from "./wire.ts";
   * const err = new WireError("message too large", "54000");
   * err.sqlState; // "54000"; the connection is then closed
   * ```
   */
  constructor(message: string, sqlState = "08P01") {
    super(message);
    this.name = "WireError";
    this.sqlState = sqlState;
  }
}

/**
 * Incremental splitter of a client's byte stream into messages. Starts in the
 * startup phase (untagged packets) unless told otherwise and switches to
 * tagged messages after a StartupMessage. Complete messages inside one chunk
 * are returned as views without copying.
 *
 * @example
 * ```ts
 * import { FrontendReader, queryMessage } from "./wire.ts";
 * const r = new FrontendReader({ startup: false });
 * const bytes = queryMessage("select 1");
 * console.log(r.push(bytes.subarray(0, 3)).length, r.push(bytes.subarray(3)).length); // 0 1
 * ```
 */
export class FrontendReader {
  #startup: boolean;
  #max: number;
  #head = new Uint8Array(5);
  #headLen = 0;
  /**
   * The message being received: its declared size, and the pieces that have
   * arrived. It is assembled only once every byte is here: a header alone
   * never makes the reader allocate what it declares.
   */
  #total = 0;
  #parts: Uint8Array[] | null = null;
  #filled = 0;

  /** `startup` (default true): expect untagged startup packets first. */
  constructor(opts: { startup?: boolean; maxMessageBytes?: number } = {}) {
    this.#startup = opts.startup ?? true;
    this.#max = opts.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  }

  /** Largest tagged message accepted from now on (e.g. small while authenticating). */
  set maxMessageBytes(bytes: number) {
    this.#max = bytes;
  }

  /** Whether the reader still expects untagged startup-phase packets. */
  get inStartup(): boolean {
    return this.#startup;
  }

  /** Feeds one chunk; returns the messages it completed. Throws {@link WireError}. */
  push(chunk: Uint8Array): FrontendMessage[] {
    const out: FrontendMessage[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#parts) {
        const n = Math.min(chunk.length - pos, this.#total - this.#filled);
        this.#parts.push(chunk.slice(pos, pos + n));
        this.#filled += n;
        pos += n;
        if (this.#filled === this.#total) {
          out.push(this.#emit(assemble(this.#parts, this.#total)));
          this.#parts = null;
        }
        continue;
      }
      const headSize = this.#startup ? 4 : 5;
      if (this.#headLen === 0 && chunk.length - pos >= headSize) {
        const total = this.#sizeOf(chunk, pos);
        if (chunk.length - pos >= total) {
          out.push(this.#emit(chunk.subarray(pos, pos + total)));
          pos += total;
        } else {
          this.#total = total;
          this.#parts = [];
          this.#filled = 0;
        }
        continue;
      }
      const n = Math.min(headSize - this.#headLen, chunk.length - pos);
      this.#head.set(chunk.subarray(pos, pos + n), this.#headLen);
      this.#headLen += n;
      pos += n;
      if (this.#headLen === headSize) {
        this.#headLen = 0;
        this.#total = this.#sizeOf(this.#head, 0);
        this.#parts = [this.#head.slice(0, headSize)];
        this.#filled = headSize;
      }
    }
    return out;
  }

  #sizeOf(buf: Uint8Array, pos: number): number {
    const view = new DataView(buf.buffer, buf.byteOffset + pos, this.#startup ? 4 : 5);
    if (this.#startup) {
      const len = view.getInt32(0);
      if (len < 8 || len > MAX_STARTUP_BYTES) {
        throw new WireError(`invalid startup packet length ${len}`);
      }
      return len;
    }
    const len = view.getInt32(1);
    if (len < 4) throw new WireError(`invalid message length ${len}`);
    if (len + 1 > this.#max) {
      throw new WireError(
        `message of ${len + 1} bytes exceeds the limit of ${this.#max} bytes`,
        "54000",
      );
    }
    return len + 1;
  }

  #emit(bytes: Uint8Array): FrontendMessage {
    if (!this.#startup) return { type: bytes[0], bytes };
    const code = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(4);
    if (code >>> 16 === 3) this.#startup = false; // a StartupMessage (protocol 3.x)
    return { type: 0, bytes, code };
  }
}

/** Concatenates `parts`, which hold exactly `total` bytes. */
function assemble(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Builds one tagged message from its tag and body parts.
 *
 * @example
 * ```ts
 * import { message } from "./wire.ts";
 * const sync = message("S"); // Uint8Array [0x53, 0, 0, 0, 4]
 * ```
 */
export function message(tag: string, ...parts: (Uint8Array | string)[]): Uint8Array {
  const bodies = parts.map((p) => typeof p === "string" ? encoder.encode(p + "\0") : p);
  const size = bodies.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(5 + size);
  out[0] = tag.charCodeAt(0);
  new DataView(out.buffer).setInt32(1, 4 + size);
  let at = 5;
  for (const b of bodies) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/**
 * A simple-protocol Query message.
 *
 * @example
 * ```ts
 * import { queryMessage } from "./wire.ts";
 * const q = queryMessage("ROLLBACK");
 * ```
 */
export function queryMessage(sql: string): Uint8Array {
  return message("Q", sql);
}

/**
 * A Parse message for `sql` into statement `name` with no declared types.
 *
 * @example
 * ```ts
 * import { parseMessage } from "./wire.ts";
 * const p = parseMessage("", "select 1");
 * ```
 */
export function parseMessage(name: string, sql: string): Uint8Array {
  return message("P", name, sql, new Uint8Array(2));
}

/**
 * A Sync message.
 *
 * @example
 * ```ts
 * import { syncMessage } from "./wire.ts";
 * console.log(syncMessage().length); // 5
 * ```
 */
export function syncMessage(): Uint8Array {
  return message("S");
}

/**
 * A Close message for prepared statement `name`.
 *
 * @example
 * ```ts
 * import { closeStatementMessage } from "./wire.ts";
 * const c = closeStatementMessage("s1");
 * ```
 */
export function closeStatementMessage(name: string): Uint8Array {
  return message("C", "S" + name);
}

/**
 * A backend ErrorResponse, e.g. `errorResponse("FATAL", "08P01", "bad message")`.
 *
 * @example
 * ```ts
 * import { errorResponse } from "./wire.ts";
 * const e = errorResponse("FATAL", "57P01", "server is shutting down");
 * ```
 */
export function errorResponse(severity: string, code: string, text: string): Uint8Array {
  return message("E", "S" + severity, "V" + severity, "C" + code, "M" + text, new Uint8Array(1));
}

/**
 * Reads the NUL-terminated string at `offset`; returns it and the offset after it.
 *
 * @example
 * ```ts
 * import { readCString } from "./wire.ts";
 * readCString(new TextEncoder().encode("ab\0c"), 0); // ["ab", 3]
 * ```
 */
export function readCString(bytes: Uint8Array, offset: number): [string, number] {
  let end = bytes.indexOf(0, offset);
  if (end < 0) end = bytes.length;
  return [decoder.decode(bytes.subarray(offset, end)), end + 1];
}
