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
 * The old generation starts at 128 MiB (`--initial-old-space-size`), and V8
 * keeps that as the floor of its limit after each full collection. A server
 * at 1,000 msgs/s promotes ~1.1 MiB a second (state a message keeps past
 * two scavenges); against its ~15 MiB live heap, V8's own limit called a
 * mark-compact every ~4 s (1–6 ms pauses), each a burst of late messages.
 * With the floor, one comes every ~80–100 s, and a live heap that grows
 * still sets its own limit. Measured at 2,000 msgs/s, 100 clients, 2
 * servers (`deno task perf`, alternating in one sitting): over 20 s, p99
 * 2.04 · 1.93 ms and max 8.2 · 6.9 ms against 2.29 · 2.94 ms and 13.6 ·
 * 14.6 ms without it (servers' RSS at most 188–190 against 139–176 MiB);
 * over 10 minutes with 1,000 clients, p99 2.52 against 4.53 ms and 7–9
 * mark-compacts per server against 154–163 (RSS at most 320 against 201
 * MiB). Memory is committed only as the heap grows into it.
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
export const SERVER_V8_FLAGS = "--v8-flags=--max-semi-space-size=16,--initial-old-space-size=128";
