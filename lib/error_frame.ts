/**
 * The `error` frame and {@link FastChatError}, converted in one place for
 * both ends: chat servers and the load balancer reply with
 * {@link errorFrame}, clients turn what they receive back into an error
 * with {@link errorFromFrame}. A retry hint is `details.retryMs` in code and
 * the `retry` field (milliseconds) on the wire; the short wire name is kept
 * so deployed clients and servers keep understanding each other.
 *
 * @example
 * ```ts
 * import { FastChatError } from "@fastchat/lib/errors";
 * import { errorFrame, errorFromFrame } from "@fastchat/lib/error_frame";
 * const f = errorFrame(new FastChatError("RATE_LIMITED", "slow down", { retryMs: 250 }));
 * console.log(f.retry, errorFromFrame(f).details?.retryMs); // 250 250
 * ```
 * @module
 */
import { type ErrorCode, FastChatError, isErrorCode } from "./errors.ts";
import type { ServerFrameOf } from "./protocol.ts";

/** Largest `retry` the frame schema accepts (ms). */
const MAX_RETRY_MS = 2 ** 31;

/**
 * Where an error reply goes: the request id it answers and, for a refused
 * `send`, the message id; `message` replaces the error's own text (e.g.
 * "internal error" instead of an internal detail).
 *
 * @example
 * ```ts
 * import type { ErrorFrameOptions } from "@fastchat/lib/error_frame";
 * const opts: ErrorFrameOptions = { rid: 7 };
 * ```
 */
export interface ErrorFrameOptions {
  rid?: number;
  id?: string;
  message?: string;
}

/**
 * The `error` frame reporting `err`: its code, message and, if it has one,
 * its retry hint (`details.retryMs`, sent as `retry`).
 *
 * @example
 * ```ts
 * import { FastChatError } from "@fastchat/lib/errors";
 * import { errorFrame } from "@fastchat/lib/error_frame";
 * errorFrame(new FastChatError("UNKNOWN_USER", "no such user: bob"), { rid: 3 });
 * // { t: "error", rid: 3, code: "UNKNOWN_USER", message: "no such user: bob" }
 * ```
 */
export function errorFrame(
  err: FastChatError,
  opts: ErrorFrameOptions = {},
): ServerFrameOf<"error"> {
  const f: ServerFrameOf<"error"> = {
    t: "error",
    code: err.code,
    message: opts.message ?? err.message,
  };
  if (opts.rid !== undefined) f.rid = opts.rid;
  if (opts.id !== undefined) f.id = opts.id;
  const retryMs = err.details?.retryMs;
  if (typeof retryMs === "number" && Number.isFinite(retryMs)) {
    f.retry = Math.min(MAX_RETRY_MS, Math.max(0, Math.ceil(retryMs)));
  }
  return f;
}

/**
 * The {@link FastChatError} an `error` frame reports. A code this version
 * does not know becomes `INTERNAL` (the message is kept); a `retry` field
 * becomes `details.retryMs`.
 *
 * @example
 * ```ts
 * import { errorFromFrame } from "@fastchat/lib/error_frame";
 * const e = errorFromFrame({ t: "error", code: "RATE_LIMITED", message: "busy", retry: 500 });
 * console.log(e.code, e.details?.retryMs); // "RATE_LIMITED" 500
 * ```
 */
export function errorFromFrame(f: ServerFrameOf<"error">): FastChatError {
  const code: ErrorCode = isErrorCode(f.code) ? f.code : "INTERNAL";
  return new FastChatError(
    code,
    f.message,
    f.retry !== undefined ? { retryMs: f.retry } : undefined,
  );
}
