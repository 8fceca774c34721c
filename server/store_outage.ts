/**
 * Telling a database outage apart from a bad request: a request that fails
 * because the store cannot be reached (connection refused or lost, the
 * database shutting down or out of resources) gets `STORE_UNAVAILABLE` with
 * a retry hint, so the client retries (a message stays in its outbox)
 * instead of seeing `INTERNAL` and giving up.
 *
 * @example
 * ```ts
 * import { isStoreOutage, storeUnavailable } from "@fastchat/server/store_outage";
 * const e = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:7432"), { code: "ECONNREFUSED" });
 * if (isStoreOutage(e)) console.log(storeUnavailable(e).code); // "STORE_UNAVAILABLE"
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";

/** How long a client waits before retrying a request the outage refused, ms. */
export const STORE_RETRY_MS = 1000;

/** Connection-level error codes of postgres.js and of the socket beneath it. */
const CONNECTION_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** SQLSTATE classes of an unavailable database: 08 connection, 53 resources, 57 shutdown. */
const OUTAGE_CLASSES = new Set(["08", "53", "57"]);

/**
 * Whether `e` says the database is unreachable or going away, rather than
 * that the request or its data was wrong. Anything else (a bug, a
 * constraint) is not an outage.
 *
 * @example
 * ```ts
 * import { isStoreOutage } from "@fastchat/server/store_outage";
 * isStoreOutage(Object.assign(new Error(), { code: "CONNECTION_CLOSED" })); // true
 * isStoreOutage(Object.assign(new Error(), { code: "57P01" })); // true (admin shutdown)
 * isStoreOutage(Object.assign(new Error(), { code: "23505" })); // false (unique violation)
 * isStoreOutage(new TypeError("x is undefined")); // false
 * ```
 */
export function isStoreOutage(e: unknown): boolean {
  if (e instanceof FastChatError) return e.code === "STORE_UNAVAILABLE";
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return false;
  if (/^[0-9A-Z]{5}$/.test(code)) return OUTAGE_CLASSES.has(code.slice(0, 2));
  return CONNECTION_CODES.has(code);
}

/**
 * The error a client gets for a request refused by an outage: code
 * `STORE_UNAVAILABLE`, a retry hint, the cause kept for the log.
 *
 * @example
 * ```ts
 * import { storeUnavailable } from "@fastchat/server/store_outage";
 * const err = storeUnavailable(new Error("connect ECONNREFUSED"));
 * console.log(err.code, err.details?.retryMs); // "STORE_UNAVAILABLE" 1000
 * ```
 */
export function storeUnavailable(cause: unknown): FastChatError<"STORE_UNAVAILABLE"> {
  // Always this message: the cause may name the database's address.
  return new FastChatError(
    "STORE_UNAVAILABLE",
    "the server's database is unavailable; try again shortly",
    { retryMs: STORE_RETRY_MS },
    { cause },
  );
}
