/**
 * What every FastChat process entry point does: run `main`, print a failure
 * as one `fastchat <name>: CODE: message` line (exit 1), exit with the code
 * `main` resolves to if it is a number (a long-running main resolves with
 * nothing once it serves), and on SIGINT, SIGTERM or SIGHUP (or when its
 * parent is gone) run a graceful shutdown once, then exit 0.
 *
 * @example
 * ```ts
 * import { onShutdown, runMain } from "@fastchat/lib/process_main";
 * runMain("demo", async () => {
 *   const timer = setInterval(() => {}, 1000);
 *   onShutdown(() => clearInterval(timer));
 * });
 * ```
 * @module
 */
import { FastChatError } from "./errors.ts";
import { STOP_SIGNALS, watchLifeline } from "./lifeline.ts";
import { logFormatFromEnv } from "./log_format.ts";

/**
 * Runs `shutdown` once on the first stop signal (SIGINT, SIGTERM, SIGHUP)
 * or when the parent that started this process with a lifeline is gone
 * (lib/lifeline.ts), then exits 0.
 */
export function onShutdown(shutdown: () => unknown | Promise<unknown>): void {
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await shutdown();
    } finally {
      Deno.exit(0);
    }
  };
  for (const s of STOP_SIGNALS) Deno.addSignalListener(s, stop);
  watchLifeline(stop);
}

/**
 * Runs `main`: a number it resolves to is the exit code; a thrown error
 * becomes a one-line message and exit code `errorExitCode` (default 1).
 * A `$FASTCHAT_LOG_FORMAT` other than `json` or `text` fails before `main`.
 */
export function runMain(
  name: string,
  main: () => Promise<unknown>,
  opts: { errorExitCode?: number } = {},
): void {
  Promise.resolve().then(() => {
    logFormatFromEnv(); // a typo in the variable is an error, not JSON logs
    return main();
  }).then((code) => {
    if (typeof code === "number") Deno.exit(code);
  }, (e) => {
    const err = FastChatError.from(e);
    console.error(`fastchat ${name}: ${err.code}: ${err.message}`);
    Deno.exit(opts.errorExitCode ?? 1);
  });
}
