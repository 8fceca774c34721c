/**
 * Runtime flags the chat server is started with, wherever it is started:
 * `deno task server`, `deno task start`, the perf cluster, the test
 * harnesses and the compiled `fastchat` binary (there for every command: a
 * binary's V8 flags are fixed when it is built).
 *
 * V8 lets the young generation (the semi-spaces) grow to 16 MiB each under
 * a burst of allocation, such as thousands of logins, and keeps it. A chat
 * server's per-message garbage is small and short-lived, so a 1 MiB semi-space
 * costs it nothing measurable in throughput, while a server with 10,000
 * clients measured 234–262 MiB RSS with it (three runs) against 261–298 MiB
 * without (two), 3 s after their logins (`deno task perf -- --idle 10000`).
 *
 * @example
 * ```ts
 * import { SERVER_V8_FLAGS } from "@fastchat/lib/runtime_flags";
 * const args = ["run", "-A", SERVER_V8_FLAGS, "server/main.ts"];
 * console.log(args.join(" "));
 * ```
 * @module
 */

/** The `--v8-flags=…` argument for `deno run` / `deno compile` of the server. */
export const SERVER_V8_FLAGS = "--v8-flags=--max-semi-space-size=1";
