/**
 * The process-wide limit on slow crypto operations that run on Deno's
 * blocking thread pool (RSA key generation and unwrapping, PBKDF2): one per
 * core. A process that hosts many clients (a load generator, a bot host)
 * would otherwise start hundreds of them at once, starving its own event
 * loop and every other process on the machine.
 *
 * @example
 * ```ts
 * import { heavyCrypto } from "./heavy.ts";
 * const bits = await heavyCrypto(() => crypto.subtle.digest("SHA-256", new Uint8Array(1)));
 * ```
 * @module
 */
import { defaultConcurrency, Semaphore } from "../semaphore.ts";

const slots = new Semaphore(defaultConcurrency());

/**
 * Runs `op` once one of the per-core slots is free (waits without bound).
 *
 * @example
 * ```ts
 * import { heavyCrypto } from "./heavy.ts";
 * await heavyCrypto(async () => 42);
 * ```
 */
export function heavyCrypto<T>(op: () => Promise<T>): Promise<T> {
  return slots.run(op);
}
