/**
 * Ending a resource that may already have ended. Shutdown paths close
 * sockets, listeners and files, and signal child processes, that the peer,
 * the process or an earlier close may have ended first. Deno reports exactly
 * that case with one error type each, so these helpers swallow that error
 * and nothing else: a different failure still surfaces.
 *
 * @example
 * ```ts
 * import { closeIfOpen } from "@fastchat/lib/already_gone";
 * const listener = Deno.listen({ port: 0 });
 * listener.close();
 * closeIfOpen(listener); // false: it was closed already
 * ```
 * @module
 */

/**
 * Closes `resource`; returns false if it was closed already. Closing a
 * closed Deno resource (conn, listener, file) throws `BadResource`, which
 * means only that there is nothing left to release; any other error is
 * rethrown.
 *
 * @example
 * ```ts
 * import { closeIfOpen } from "@fastchat/lib/already_gone";
 * const file = await Deno.open("deno.json");
 * closeIfOpen(file); // true
 * closeIfOpen(file); // false
 * ```
 */
export function closeIfOpen(resource: { close(): void }): boolean {
  try {
    resource.close();
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.BadResource) return false;
    throw e;
  }
}

/**
 * Sends `signal` to `child`; returns false if it had exited already (Deno
 * then throws a `TypeError`: "Child process has already terminated"). Any
 * other error is rethrown.
 *
 * @example
 * ```ts
 * import { signalIfRunning } from "@fastchat/lib/already_gone";
 * const child = new Deno.Command("sleep", { args: ["10"] }).spawn();
 * signalIfRunning(child, "SIGTERM"); // true
 * await child.status;
 * signalIfRunning(child, "SIGTERM"); // false
 * ```
 */
export function signalIfRunning(child: Deno.ChildProcess, signal: Deno.Signal): boolean {
  try {
    child.kill(signal);
    return true;
  } catch (e) {
    if (e instanceof TypeError) return false;
    throw e;
  }
}
