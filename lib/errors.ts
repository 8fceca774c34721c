/**
 * The one error type of FastChat. Every failure a peer can see carries a
 * stable {@link ErrorCode}; the message is for humans and may change.
 *
 * @example
 * ```ts
 * import { FastChatError } from "@fastchat/lib/errors";
 * try {
 *   throw new FastChatError("UNKNOWN_USER", "no such user: bob");
 * } catch (e) {
 *   if (e instanceof FastChatError) console.log(e.code); // "UNKNOWN_USER"
 * }
 * ```
 * @module
 */

/** Stable error codes shown by clients and sent in `error` frames. */
export const ERROR_CODES = [
  // framing and protocol
  "BAD_FRAME",
  "FRAME_TOO_LARGE",
  "BAD_REQUEST",
  "UNSUPPORTED_VERSION",
  "HANDSHAKE_REQUIRED",
  "NOT_AUTHENTICATED",
  "ALREADY_AUTHENTICATED",
  "TIMEOUT",
  "TOO_MANY_ERRORS",
  "SLOW_CONSUMER",
  "SERVER_SHUTTING_DOWN",
  // accounts and sessions
  "INVALID_USERNAME",
  "USER_EXISTS",
  "UNKNOWN_USER",
  "WRONG_PASSWORD",
  "INVALID_CREDENTIALS",
  "INVALID_TOKEN",
  "RATE_LIMITED",
  // load balancer tickets and cluster
  "TICKET_MALFORMED",
  "TICKET_FORGED",
  "TICKET_EXPIRED",
  "TICKET_NOT_YET_VALID",
  "TICKET_WRONG_SERVER",
  "TICKET_REPLAYED",
  "TICKET_REQUIRED",
  "NO_SERVERS",
  // messaging
  "DUPLICATE_ID",
  "UNKNOWN_KEY",
  "PAYLOAD_TOO_LARGE",
  // groups and files
  "NOT_GROUP_ADMIN",
  "NOT_GROUP_MEMBER",
  "UNKNOWN_GROUP",
  "GROUP_EXISTS",
  "INVALID_GROUP_NAME",
  "GROUP_FULL",
  "FILE_NOT_FOUND",
  "FILE_TOO_LARGE",
  "TRANSFER_FAILED",
  // end-to-end encryption (raised on clients)
  "DECRYPT_FAILED",
  "BAD_SIGNATURE",
  "PEER_LINK_TAMPERED",
  "KEY_CHANGED",
  "WRONG_PASSWORD_LOCAL",
  "KDF_DOWNGRADE",
  // transport and store
  "CONNECTION_CLOSED",
  "CONNECT_FAILED",
  "NOT_CONNECTED",
  "STORE_UNAVAILABLE",
  "STORE_FAILED",
  "INVALID_CONFIG",
  "ADDRESS_IN_USE",
  "INTERNAL",
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = typeof ERROR_CODES[number];

const CODE_SET: ReadonlySet<string> = new Set(ERROR_CODES);

/** Whether `code` is a known {@link ErrorCode}. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && CODE_SET.has(code);
}

/**
 * The structured details each {@link ErrorCode} may carry, by code. A code
 * not listed here carries none. Field names are shared across codes: a retry
 * hint is always `retryMs` (milliseconds), whoever raises it, and travels to
 * clients as the `retry` field of an `error` frame.
 *
 * @example
 * ```ts
 * import type { ErrorDetailsByCode } from "@fastchat/lib/errors";
 * const hint: ErrorDetailsByCode["RATE_LIMITED"] = { retryMs: 500 };
 * ```
 */
export interface ErrorDetailsByCode {
  /** Where in the frame the MessagePack was refused. */
  BAD_FRAME: { offset: number };
  /** The declared frame size and the limit it exceeds, bytes. */
  FRAME_TOO_LARGE: { size: number; limit: number };
  /** The offending field (a path like `keys.sign`) or the bound it broke. */
  BAD_REQUEST: { field?: string; modulusLength?: number; minimum?: number; expectedChunk?: number };
  /** The user that does not exist. */
  UNKNOWN_USER: { user?: string };
  /** The user who is not a member (absent when it is the asker). */
  NOT_GROUP_MEMBER: { user?: string };
  /** The server's file size limit, bytes. */
  FILE_TOO_LARGE: { limit: number };
  /** When to try again; `reason: "busy"` for a full ticket replay cache. */
  RATE_LIMITED: { retryMs: number; reason?: "busy" };
  /** Ticket rejections carry their reason (see lb/ticket_error.ts). */
  TICKET_MALFORMED: { reason: "malformed" };
  TICKET_FORGED: { reason: "forged" };
  TICKET_EXPIRED: { reason: "expired"; expiresAt?: number };
  TICKET_NOT_YET_VALID: { reason: "not_yet_valid"; issuedAt?: number };
  TICKET_WRONG_SERVER: { reason: "wrong_server"; serverId?: string };
  TICKET_REPLAYED: { reason: "replayed" };
  /** Live servers the LB knows (all of them draining when > 0). */
  NO_SERVERS: { live: number };
  /** The conversation a session key envelope claims. */
  BAD_SIGNATURE: { sender: string; recipient: string };
  DECRYPT_FAILED: { reason?: string; recipientKeyFingerprint?: string };
  WRONG_PASSWORD_LOCAL: { reason: string };
  STORE_UNAVAILABLE: {
    /** When a client should try again (a request refused during an outage). */
    retryMs?: number;
    dataDir?: string;
    url?: string;
    timeoutMs?: number;
    host?: string;
    port?: number;
  };
  /** The address a listener could not bind, and the flag that chooses its port. */
  ADDRESS_IN_USE: { host: string; port: number; flag: string };
  INVALID_CONFIG: {
    path?: string;
    dir?: string;
    dataDir?: string;
    file?: string;
    url?: string;
    version?: number;
    expected?: string;
    actual?: string;
  };
}

/**
 * The details of errors with code `C`: `never` (none allowed) for a code
 * without an entry in {@link ErrorDetailsByCode}.
 *
 * @example
 * ```ts
 * import type { ErrorDetails } from "@fastchat/lib/errors";
 * const d: ErrorDetails<"FRAME_TOO_LARGE"> = { size: 2_000_000, limit: 1_048_576 };
 * ```
 */
export type ErrorDetails<C extends ErrorCode> = C extends keyof ErrorDetailsByCode
  ? ErrorDetailsByCode[C]
  : never;

type AllDetails = ErrorDetailsByCode[keyof ErrorDetailsByCode];
type KeysOfUnion<T> = T extends unknown ? keyof T : never;
type ValueAt<T, K extends PropertyKey> = T extends unknown ? K extends keyof T ? T[K] : never
  : never;

/**
 * What an error of unknown code may carry: every field of
 * {@link ErrorDetailsByCode}, each optional, so `e.details?.retryMs` reads
 * as `number | undefined` on any {@link FastChatError}.
 *
 * @example
 * ```ts
 * import type { AnyErrorDetails } from "@fastchat/lib/errors";
 * const d: AnyErrorDetails = { retryMs: 250 };
 * ```
 */
export type AnyErrorDetails = { readonly [K in KeysOfUnion<AllDetails>]?: ValueAt<AllDetails, K> };

/**
 * The details type of a {@link FastChatError} with code type `C`: exact for
 * one known code, {@link AnyErrorDetails} for the general `ErrorCode`.
 *
 * @example
 * ```ts
 * import type { DetailsOf } from "@fastchat/lib/errors";
 * const d: DetailsOf<"RATE_LIMITED"> = { retryMs: 100 };
 * ```
 */
export type DetailsOf<C extends ErrorCode> = [ErrorCode] extends [C] ? AnyErrorDetails
  : ErrorDetails<C>;

/**
 * An error with a stable machine-readable code. The details given to the
 * constructor are checked against the code ({@link ErrorDetailsByCode});
 * `instanceof` narrows to `FastChatError<ErrorCode>`.
 *
 * @example
 * ```ts
 * import { FastChatError } from "@fastchat/lib/errors";
 * const e = new FastChatError("RATE_LIMITED", "slow down", { retryMs: 500 });
 * console.log(e.code, e.details?.retryMs);
 * ```
 */
export class FastChatError<C extends ErrorCode = ErrorCode> extends Error {
  /** Stable code, e.g. `"WRONG_PASSWORD"`. */
  readonly code: C;
  /**
   * Optional structured details, checked against the code when the error is
   * built (see {@link ErrorDetailsByCode}); any known field reads here.
   */
  readonly details?: AnyErrorDetails;

  constructor(
    code: C,
    message: string,
    details?: DetailsOf<C>,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "FastChatError";
    this.code = code;
    this.details = details;
  }

  /** `instanceof` narrows to `FastChatError<ErrorCode>` rather than `FastChatError<any>`. */
  static override [Symbol.hasInstance](value: unknown): value is FastChatError {
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }

  /** Wraps any thrown value; a FastChatError is returned unchanged. */
  static from(e: unknown, code: ErrorCode = "INTERNAL"): FastChatError {
    if (e instanceof FastChatError) return e;
    const message = e instanceof Error ? e.message : String(e);
    return new FastChatError(code, message, undefined, { cause: e });
  }
}
