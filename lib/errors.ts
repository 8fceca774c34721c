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
 * An error with a stable machine-readable code.
 *
 * @example
 * ```ts
 * import { FastChatError } from "@fastchat/lib/errors";
 * const e = new FastChatError("RATE_LIMITED", "slow down", { retryAfterMs: 500 });
 * console.log(e.code, e.details?.retryAfterMs);
 * ```
 */
export class FastChatError extends Error {
  /** Stable code, e.g. `"WRONG_PASSWORD"`. */
  readonly code: ErrorCode;
  /** Optional structured details (e.g. `retryAfterMs`). */
  readonly details?: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    details?: Record<string, unknown>,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "FastChatError";
    this.code = code;
    this.details = details;
  }

  /** Wraps any thrown value; a FastChatError is returned unchanged. */
  static from(e: unknown, code: ErrorCode = "INTERNAL"): FastChatError {
    if (e instanceof FastChatError) return e;
    const message = e instanceof Error ? e.message : String(e);
    return new FastChatError(code, message, undefined, { cause: e });
  }
}
