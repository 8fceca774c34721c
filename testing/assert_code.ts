/**
 * Assertions on {@link FastChatError} codes, for synchronous calls and for
 * promises alike: {@link codeOf} tells which code a call failed with, and
 * {@link assertCode} fails a test unless it failed with the expected one.
 *
 * A call that throws something other than a `FastChatError` fails the test
 * with that error as the cause: a stable code is part of every error's
 * contract, and an untyped exception is a bug, not a refusal.
 *
 * @example
 * ```ts
 * import { assertCode, codeOf } from "@fastchat/testing/assert_code";
 * import { FastChatError } from "@fastchat/lib/errors";
 * const refuse = () => {
 *   throw new FastChatError("BAD_REQUEST", "no");
 * };
 * codeOf(refuse); // "BAD_REQUEST"
 * codeOf(() => 1); // undefined
 * assertCode(refuse, "BAD_REQUEST");
 * await assertCode(Promise.reject(new FastChatError("TIMEOUT", "late")), "TIMEOUT");
 * ```
 * @module
 */
import { type ErrorCode, FastChatError } from "@fastchat/lib/errors";

/** Something that may fail: a promise, or a function called with no arguments. */
export type Attempt = PromiseLike<unknown> | (() => unknown);

/**
 * The code of the `FastChatError` that `attempt` throws or rejects with, or
 * `undefined` when it succeeds. A promise (or a function returning one) gives
 * a promise; a synchronous function gives the code directly. Anything thrown
 * that is not a `FastChatError` is rethrown, wrapped, so the test fails.
 * (TypeScript picks the promise overload for a function typed `() => never`:
 * type such a helper `(): void`.)
 *
 * @example
 * ```ts
 * import { codeOf } from "@fastchat/testing/assert_code";
 * import { FastChatError } from "@fastchat/lib/errors";
 * const fail = async () => {
 *   throw new FastChatError("INVALID_CONFIG", "bad key");
 * };
 * await codeOf(fail); // "INVALID_CONFIG"
 * ```
 */
export function codeOf(
  attempt: PromiseLike<unknown> | (() => PromiseLike<unknown>),
): Promise<ErrorCode | undefined>;
export function codeOf(attempt: () => unknown): ErrorCode | undefined;
export function codeOf(attempt: Attempt): ErrorCode | undefined | Promise<ErrorCode | undefined> {
  const outcome = settle(attempt);
  return isThenable(outcome) ? Promise.resolve(outcome).then((e) => e?.code) : outcome?.code;
}

/**
 * Asserts that `attempt` fails with a `FastChatError` of `code`, and returns
 * that error (for its message or details). Throws when it succeeds, fails
 * with another code, or throws something that is not a `FastChatError`.
 * Await it when `attempt` is a promise or an async function.
 *
 * @example
 * ```ts
 * import { assertCode } from "@fastchat/testing/assert_code";
 * import { FastChatError } from "@fastchat/lib/errors";
 * const e = await assertCode(async () => {
 *   throw new FastChatError("RATE_LIMITED", "slow down");
 * }, "RATE_LIMITED");
 * e.message; // "slow down"
 * ```
 */
export function assertCode(
  attempt: PromiseLike<unknown> | (() => PromiseLike<unknown>),
  code: ErrorCode,
): Promise<FastChatError>;
export function assertCode(attempt: () => unknown, code: ErrorCode): FastChatError;
export function assertCode(
  attempt: Attempt,
  code: ErrorCode,
): FastChatError | Promise<FastChatError> {
  const outcome = settle(attempt);
  return isThenable(outcome)
    ? Promise.resolve(outcome).then((e) => expectCode(e, code))
    : expectCode(outcome, code);
}

/** The `FastChatError` of `attempt` (undefined: it succeeded), now or as a promise. */
function settle(
  attempt: Attempt,
): FastChatError | undefined | PromiseLike<FastChatError | undefined> {
  let result: unknown = attempt;
  if (typeof attempt === "function") {
    try {
      result = attempt();
    } catch (e) {
      return typed(e);
    }
  }
  if (!isThenable(result)) return undefined;
  return Promise.resolve(result).then(() => undefined, typed);
}

function typed(e: unknown): FastChatError {
  if (e instanceof FastChatError) return e;
  throw new Error(`expected a FastChatError, got ${describe(e)}`, { cause: e });
}

function expectCode(e: FastChatError | undefined, code: ErrorCode): FastChatError {
  if (e === undefined) throw new Error(`expected FastChatError ${code}, but nothing was thrown`);
  if (e.code !== code) {
    throw new Error(`expected FastChatError ${code}, got ${e.code}: ${e.message}`, { cause: e });
  }
  return e;
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as PromiseLike<unknown> | null)?.then === "function";
}
