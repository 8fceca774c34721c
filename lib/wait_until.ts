/**
 * Polling for state nobody announces (a registry row, a log line of a
 * child process): {@link waitUntil} re-evaluates a condition until it holds
 * or a deadline passes, and then says what it was waiting for and what it
 * saw last. Prefer awaiting an event where there is one.
 *
 * @example
 * ```ts
 * import { waitUntil } from "@fastchat/lib/wait_until";
 * const started = Date.now();
 * await waitUntil(() => Date.now() - started > 100, 5_000, "100 ms to pass");
 * ```
 * @module
 */
import { FastChatError } from "./errors.ts";

/**
 * Polls `cond` every `intervalMs` until it returns a value other than
 * `undefined`, `null` or `false`, and resolves with it. After `timeoutMs`
 * it rejects with `TIMEOUT` "timed out after … waiting for <what>" (`what`
 * may be a function, evaluated at the timeout to describe the last state
 * seen). An exception thrown by `cond` is remembered and reported, not fatal.
 *
 * @example
 * ```ts
 * import { waitUntil } from "@fastchat/lib/wait_until";
 * let n = 0;
 * const three = await waitUntil(() => ++n >= 3 && n, 1_000, () => `n = 3 (n = ${n})`, 10);
 * ```
 */
export async function waitUntil<T>(
  cond: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs: number,
  what: string | (() => string),
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (true) {
    try {
      const v = await cond();
      if (v !== undefined && v !== null && v !== false) return v;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const desc = typeof what === "function" ? what() : what;
      throw new FastChatError(
        "TIMEOUT",
        `timed out after ${timeoutMs} ms waiting for ${desc}` +
          (lastError === undefined ? "" : `; last error: ${lastError}`),
        undefined,
        { cause: lastError },
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, deadline - Date.now())));
  }
}
