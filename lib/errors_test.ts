import { expect } from "expect";
import { ERROR_CODES, FastChatError, isErrorCode } from "./errors.ts";

Deno.test("details are checked against the code when an error is built", () => {
  const limited = new FastChatError("RATE_LIMITED", "slow down", { retryMs: 500 });
  expect(limited.details?.retryMs).toBe(500);
  // @ts-expect-error: one name for the retry hint, `retryMs`
  new FastChatError("RATE_LIMITED", "slow down", { retryAfterMs: 500 });
  // @ts-expect-error: a code without details takes none
  new FastChatError("TIMEOUT", "too slow", { user: "bob" });
  // @ts-expect-error: a ticket rejection's reason matches its code
  new FastChatError("TICKET_EXPIRED", "expired", { reason: "forged" });
  expect(new FastChatError("FRAME_TOO_LARGE", "big", { size: 9, limit: 8 }).details)
    .toEqual({ size: 9, limit: 8 });
});

Deno.test("instanceof narrows to a FastChatError whose code is an ErrorCode", () => {
  const e: unknown = new FastChatError("NO_SERVERS", "none", { live: 0 });
  expect(e instanceof FastChatError).toBe(true);
  expect(new Error("x") instanceof FastChatError).toBe(false);
  if (e instanceof FastChatError) {
    // @ts-expect-error: not an ErrorCode, so the comparison cannot be true
    expect(e.code === "NO_SERVER").toBe(false);
    expect(e.details?.live).toBe(0);
  }
});

Deno.test("from wraps anything, keeping FastChatErrors as they are", () => {
  const own = new FastChatError("TIMEOUT", "late");
  expect(FastChatError.from(own)).toBe(own);
  const wrapped = FastChatError.from(new TypeError("boom"), "STORE_FAILED");
  expect(wrapped.code).toBe("STORE_FAILED");
  expect(wrapped.message).toBe("boom");
  expect(wrapped.cause).toBeInstanceOf(TypeError);
  expect(ERROR_CODES.every(isErrorCode)).toBe(true);
  expect(isErrorCode("NOPE")).toBe(false);
});
