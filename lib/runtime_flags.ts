/**
 * Runtime flags the chat server is started with, wherever it is started:
 * `deno task server`, `deno task start`, the perf cluster, the test
 * harnesses and the compiled `fastchat` binary (there for every command: a
 * binary's V8 flags are fixed when it is built).
 *
 * The young generation (each of its two semi-spaces) may grow to 16 MiB.
 * Every message in flight keeps some state on a server for 0.1–1 s (until
 * its acknowledgement, or its write-behind linger): with the 1 MiB used
 * before, a busy server scavenged every 25–50 ms, so all of it was promoted
 * and the old generation needed a full mark-compact every few seconds (the
 * periodic latency stripes at 2,000 msgs/s); GC was a quarter of a server's
 * CPU at window 64. With 16 MiB, back to back (`deno task perf`, 100 clients,
 * 2 servers): scavenges 530 → 31 per 20 s at 2,000 msgs/s; at window 64
 * 390–410 → 25 per 100,000 messages and server CPU per message 21.9–24.0 →
 * 18.7–19.3 µs. 10,000 idle connections settled at 200.9 MiB RSS against
 * 208.2 MiB with 1 MiB in the same sitting (`deno task perf -- --idle 10000`).
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
export const SERVER_V8_FLAGS = "--v8-flags=--max-semi-space-size=16";

/**
 * The `--v8-flags=…` argument of the load generator's workers
 * (`deno task perf`): the servers' young generation, and an old
 * generation that may grow to four times what the last full collection
 * left (`--heap-growing-percent=300`) before the next one starts. V8
 * starts marking once the old generation comes within a young
 * generation's size of its limit: with 16 MiB semi-spaces a worker ran a
 * full collection every few seconds, each 20–40 ms of marking steps on
 * the thread that timestamps 50 clients' messages, the largest stripes of
 * slow messages at 2,000 msgs/s. The servers keep V8's own growth: the
 * same setting there took p99 at 2,000 msgs/s from 3.8–5.2 to 2.7–2.9 ms
 * but kept 10,000 idle connections at 308 MiB instead of 237 MiB once
 * settled (V8's memory reducer then shrinks the heap only to that limit).
 *
 * @example
 * ```ts
 * import { LOAD_WORKER_V8_FLAGS } from "@fastchat/lib/runtime_flags";
 * console.log(["run", "-A", LOAD_WORKER_V8_FLAGS, "perf/load_worker.ts"].join(" "));
 * ```
 */
export const LOAD_WORKER_V8_FLAGS =
  "--v8-flags=--max-semi-space-size=16,--heap-growing-percent=300";
