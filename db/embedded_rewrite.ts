/**
 * Per-connection rewriting of frontend messages for the embedded server.
 * PostgreSQL keeps prepared statements per session, but every connection of
 * the embedded server shares one PGlite session: so named statements get a
 * per-connection prefix (no collisions, exact cleanup on disconnect). COPY
 * FROM STDIN is replaced by an error, because PGlite would exit waiting for
 * input that arrives in a later message.
 *
 * @example
 * ```ts
 * import { StatementNamespace } from "./embedded_rewrite.ts";
 * import { parseMessage } from "./wire.ts";
 * const ns = new StatementNamespace("fc1.");
 * ns.rewrite(0x50, parseMessage("s1", "select 1")); // a Parse of "fc1.s1"
 * console.log([...ns.statements]); // ["fc1.s1"]
 * ```
 * @module
 */
import { message, queryMessage, readCString } from "./wire.ts";

const T_QUERY = 0x51; // 'Q'
const T_PARSE = 0x50; // 'P'
const T_BIND = 0x42; // 'B'
const T_DESCRIBE = 0x44; // 'D'
const T_CLOSE = 0x43; // 'C'
const KIND_STATEMENT = 0x53; // 'S' in Describe/Close

const COPY_FROM_STDIN = /\bcopy\b[\s\S]*?\bfrom\s+stdin\b/i;
const COPY_REJECT_SQL = "DO $$ BEGIN RAISE EXCEPTION 'COPY FROM STDIN is not supported by the " +
  "FastChat embedded database' USING ERRCODE = 'feature_not_supported'; END $$";
const encoder = new TextEncoder();

/**
 * Copies message `bytes` with `prefix` inserted at byte `at` (the start of a
 * name inside the body), fixing the length header.
 *
 * @example
 * ```ts
 * import { insertIntoMessage } from "./embedded_rewrite.ts";
 * import { parseMessage } from "./wire.ts";
 * const renamed = insertIntoMessage(parseMessage("s1", "select 1"), 5, "c7.");
 * // now a Parse of statement "c7.s1"
 * ```
 */
export function insertIntoMessage(bytes: Uint8Array, at: number, prefix: string): Uint8Array {
  const insert = encoder.encode(prefix);
  const out = new Uint8Array(bytes.length + insert.length);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(bytes.subarray(at), at + insert.length);
  new DataView(out.buffer).setInt32(1, out.length - 1);
  return out;
}

/**
 * One connection's private namespace of prepared statements.
 *
 * @example
 * ```ts
 * import { StatementNamespace } from "./embedded_rewrite.ts";
 * const ns = new StatementNamespace("fc2.");
 * console.log(ns.statements.size); // 0
 * ```
 */
export class StatementNamespace {
  /** Prefix added to every statement name, e.g. `"fc2."`. */
  readonly prefix: string;
  /** Prefixed names created (Parse) and not yet closed (Close). */
  readonly statements: Set<string> = new Set();

  /** `prefix` must be unique per connection and must not be a prefix of another. */
  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** Returns the message to forward in place of `bytes` (tag `type`). */
  rewrite(type: number, bytes: Uint8Array): Uint8Array {
    switch (type) {
      case T_QUERY:
        return COPY_FROM_STDIN.test(readCString(bytes, 5)[0])
          ? queryMessage(COPY_REJECT_SQL)
          : bytes;
      case T_PARSE: {
        const [name, at] = readCString(bytes, 5);
        if (COPY_FROM_STDIN.test(readCString(bytes, at)[0])) {
          return message("P", name && this.prefix + name, COPY_REJECT_SQL, new Uint8Array(2));
        }
        if (!name) return bytes;
        this.statements.add(this.prefix + name);
        return insertIntoMessage(bytes, 5, this.prefix);
      }
      case T_BIND: {
        const at = bytes.indexOf(0, 5) + 1; // the statement name follows the portal name
        return bytes[at] === 0 ? bytes : insertIntoMessage(bytes, at, this.prefix);
      }
      case T_DESCRIBE:
      case T_CLOSE: {
        if (bytes[5] !== KIND_STATEMENT || bytes[6] === 0) return bytes; // portal or unnamed
        if (type === T_CLOSE) this.statements.delete(this.prefix + readCString(bytes, 6)[0]);
        return insertIntoMessage(bytes, 6, this.prefix);
      }
      default:
        return bytes;
    }
  }
}
