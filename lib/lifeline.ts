/**
 * Lifelines: a FastChat process started by another one (the `deno task
 * start` supervisor, the load generator, the tests) ends when its parent
 * ends, however the parent ended. {@link ManagedProcess} gives each child a
 * stdin pipe it never writes to and sets `FASTCHAT_LIFELINE=1`; the child
 * reads that pipe, and end of input means the parent is gone (closed by the
 * kernel even after a SIGKILL), so the child shuts down as on SIGTERM instead
 * of running on as an orphan holding its port and data directory.
 *
 * {@link STOP_SIGNALS} are the signals that stop a process gracefully: the
 * terminal closing (SIGHUP) is one of them.
 *
 * @example
 * ```ts
 * import { STOP_SIGNALS, watchLifeline } from "@fastchat/lib/lifeline";
 * const stop = () => console.log("stopping");
 * for (const s of STOP_SIGNALS) Deno.addSignalListener(s, stop);
 * watchLifeline(stop); // false: not started with a lifeline
 * for (const s of STOP_SIGNALS) Deno.removeSignalListener(s, stop);
 * ```
 * @module
 */

/** Set to `1` in the environment of a child whose stdin is its lifeline. */
export const LIFELINE_ENV = "FASTCHAT_LIFELINE";

/** Signals that stop a FastChat process gracefully (Ctrl-C, `kill`, the terminal closing). */
export const STOP_SIGNALS: readonly Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT", "SIGBREAK"]
  : ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * When this process was started with a lifeline, calls `onParentGone` once
 * its parent has exited (end of stdin) and returns true; otherwise returns
 * false and does nothing. The variable is removed from the environment so
 * processes this one starts do not mistake their stdin for a lifeline.
 */
export function watchLifeline(onParentGone: () => void): boolean {
  if (Deno.env.get(LIFELINE_ENV) !== "1") return false;
  Deno.env.delete(LIFELINE_ENV);
  if (Deno.stdin.isTerminal()) return false; // a person's terminal is no lifeline
  (async () => {
    const buf = new Uint8Array(256);
    try {
      // The parent never writes; anything read is ignored until end of input.
      while ((await Deno.stdin.read(buf)) !== null) { /* keep reading */ }
    } catch {
      // A read error means the pipe is gone as surely as end of input does.
    }
    onParentGone();
  })();
  return true;
}
