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
 * The old generation may grow to four times what the last full collection
 * left (`--heap-growing-percent=300`) before the next one starts. V8 starts
 * marking once the old generation comes within a young generation's size of
 * its limit, and with 16 MiB semi-spaces that was ~20 MB on a server whose
 * live heap is ~14 MB: a mark-compact every ~3 s at 2,000 msgs/s (its
 * marking steps and 2–5 ms final pause one of the last stripes of slow
 * messages). With it, alternating runs (`deno task perf -- --clients 100
 * --messages 600 --servers 2 --rate 2000/s`, 3 each): p99 2.84 · 2.86 ·
 * 2.67 ms against 3.84 · 4.49 · 5.24 ms, max 12.4 · 12.1 · 14.6 ms against
 * 42.5 · 26.7 · 21.7 ms; servers' peak RSS 166–173 MiB against 134–152 MiB,
 * CPU per message unchanged. An idle process still shrinks (V8's memory
 * reducer).
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
export const SERVER_V8_FLAGS = "--v8-flags=--max-semi-space-size=16,--heap-growing-percent=300";
