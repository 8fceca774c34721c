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
 * keeps that as the floor of its limit after each full collection: what a
 * busy process does promote (a server's sessions, a load worker's keys)
 * then costs a mark-compact every minute or more, not every few seconds
 * (each a burst of late messages). Measured at 2,000 msgs/s, 100 clients,
 * 2 servers (`deno task perf`, alternating in one sitting): over 20 s, p99
 * 2.04 · 1.93 ms and max 8.2 · 6.9 ms against 2.29 · 2.94 ms and 13.6 ·
 * 14.6 ms without it; over 10 minutes with 1,000 clients, p99 2.52 against
 * 4.53 ms. Memory is committed only as the heap grows into it.
 *
 * No allocation-site pretenuring (`--no-allocation-site-pretenuring`). V8
 * moves an allocation site's objects straight into the old generation once
 * most of them survived a scavenge, and keeps that decision. A burst (the
 * logins, a backlog) tenured the sites of a message's state for good: at
 * 1,000 msgs/s each server then allocated ~0.5 MiB a second of short-lived
 * messages in the old generation, garbage only a mark-compact frees. Without
 * it (and with server/fabric_batches.ts no longer keeping its batches alive
 * through `Map.clear()`), a server's old generation grows 17–25 KiB per
 * scavenge instead of ~835 KiB, and scavenges take 0.4–0.5 ms instead of
 * ~1.05 ms (`--trace-gc-nvp`, same 20-second run; medians of the last 15
 * scavenges).
 *
 * No memory reducer (`--no-memory-reducer`). With the old generation filling
 * that slowly, V8 took a busy server for one gone quiet and ran
 * memory-reducing mark-compacts, which evacuate up to 12 MB: in the
 * 10-minute run (1,000 clients, 2,000 msgs/s) two per server, 47.7 and
 * 36.6 ms pauses, against 3–8 ms for an ordinary one. Without it: no such
 * collection, longest server pause 8.3 · 7.8 ms. An idle server settles
 * where it did (10,000 idle connections: 286.9 against 288.2 MiB, the
 * same sitting).
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
export const SERVER_V8_FLAGS =
  "--v8-flags=--max-semi-space-size=16,--initial-old-space-size=128,--no-allocation-site-pretenuring,--no-memory-reducer";
