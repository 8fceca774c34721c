/**
 * The `--help` text of `deno task perf` (perf/run_config.ts parses what it
 * describes; `scripts/config_reference_test.ts` checks that every flag there
 * is here and in docs/configuration.md).
 *
 * @example
 * ```ts
 * import { HELP } from "./run_help.ts";
 * console.log(HELP.split("\n")[0]);
 * ```
 * @module
 */
import {
  IDLE_KDF_ITERATIONS,
  IDLE_SCRYPT_N,
  PERF_KDF_ITERATIONS,
  PERF_SCRYPT_N,
} from "./run_config.ts";

/**
 * The `--help` text.
 *
 * @example
 * ```ts
 * import { HELP } from "./run_help.ts";
 * console.log(HELP);
 * ```
 */
export const HELP = `Usage: deno task perf -- --clients N (--messages M | --duration D) [options]
       deno task perf -- --idle N [--servers S]

Drives a FastChat cluster with N real clients (end-to-end encrypted, spread
over worker processes) and records every event per client as CSV.

  --clients N         messaging clients (at least 2)
  --messages M        messages PER CLIENT: the run sends N*M in total
  --duration D        instead of --messages: send until D after "go" (e.g. 30s, 2m)
  --servers S         chat servers of the cluster perf starts (default 1)
  --mode MODE         dm (default): each message to a random peer;
                      group: clients in groups of --group-size N (clients a multiple of N;
                      the first member creates the group), each sender posts to its group;
                      file: each message is a file of --file-bytes SIZE to a random peer,
                      downloaded and SHA-256-checked by the receiver (--messages counts
                      files, default 1)
  --group-size N      members per group (--mode group; at least 2, at most --clients)
  --group-senders K   the first K members of each group send, the others only receive
                      (--mode group; default: every member)
  --file-bytes SIZE   file size: 1MiB, 100MiB, 4096 (--mode file; default 1MiB, at most 100MiB)
  --payload SIZE      message text size: 100B, 1KiB, 64KiB, 1000 (bytes) (default 100B)
  --peers K           each client writes only to its K peers, fixed by the seed: neighbours
                      on a seeded ring, symmetric, so the key warm-up is about N*K messages
                      rather than up to N*(N-1) (--mode dm; 1..N-1; default: every other client)
send model (one of; default --window 16):
  --window W          closed loop: at most W messages per client not yet acked by the server
  --rate R/s          open loop: R messages per second in total, split evenly over the
                      clients, paced on timers (late timers catch up)
  --delay SPEC        open loop: delay between a client's messages, seeded:
                      const:10ms | exp:12ms (exponential, mean) | normal:10ms,5ms (mean, sd)
target:
  --lb HOST:PORT      drive a running cluster through this load balancer
                      (default: start db + S servers + LB as processes, stop them afterwards)
  --db URL            with the cluster perf starts: use this PostgreSQL
                      (default: embedded database in memory)
other:
  --out DIR           run directory (default perf/out/<timestamp>-c<N>-s<S>)
  --seed X            users are perf-<X>-<i>; seeds recipients, payloads and delays
                      (default: random; reuse a seed with --lb/--db to log existing users in)
  --workers W         worker processes (default: CPU cores, at most N)
  --drain D           wait this long after the last send for missing messages (default 30s)
  --scrypt-n N        servers' password-hash cost (default ${PERF_SCRYPT_N}; ${IDLE_SCRYPT_N} with --idle)
  --kdf-iterations N  clients' PBKDF2 iterations for new users
                      (default ${PERF_KDF_ITERATIONS}; ${IDLE_KDF_ITERATIONS} with --idle)
  --idle N            log N clients in and keep them idle; report server RSS per connection
                      (writes idle.json)
  --kill-one          SIGKILL one server once a quarter of the load is sent; measure how long
                      its clients take to reconnect and count lost/duplicated messages
                      (writes reconnect.json; needs --servers 2 or more)
  --no-warmup         skip the key warm-up: by default, before timing, every client sends one
                      unrecorded message to each peer it will write to, so the timed phase
                      measures chat between users who already share session keys; without it
                      the first message of each pair pays for RSA key wrapping
  --identity-pool N   each worker generates N identities (RSA + Ed25519 key pairs) and new
                      users reuse them round-robin; 0: every user generates its own
                      (default 0; 16 with --idle). Messages stay end-to-end encrypted;
                      it only spares RSA key generation (~0.2 s per user) when
                      registering thousands of users
  --driver D          client (default): real ChatClients, end-to-end encryption and all;
                      wire: protocol-level clients (perf/wire_chat_client.ts) that replay one
                      real sealed body and never open what they receive, so the servers can
                      be loaded to saturation on one machine (dm mode; no --kill-one)
  --no-analyze        do not run perf/analyze.ts on the run directory at the end
  --fabric F          how the servers perf starts reach each other: direct (default) | nats
  --nats URL[,URL]    NATS server(s) of --fabric nats (e.g. nats://127.0.0.1:4222)
  --cpu-prof          write V8 CPU profiles of every process (servers, LB, database, workers)
                      to DIR/profiles/*.cpuprofile (open in Chrome DevTools)
  --trace-gc          run the database, servers, LB and load workers with V8's --trace-gc:
                      the analysis reports their GC pauses (count, total, max) in the
                      messaging phase
  --heap-sample       sample the load workers' JS heap allocations while they send, to
                      DIR/profiles/worker-<k>.heapprofile (Chrome DevTools, Memory tab);
                      perf/heap_profile.ts DIR sums them (bytes per message, by function)
  --heap-survivors    the same, counting only what survived a scavenge (what the young
                      generation copies and promotes): worker-<k>.survivors.heapprofile
  --linux-perf        record Linux perf's on-CPU samples (perf record -e cpu-clock) of the
                      servers and load workers in the messaging phase, JIT code named: the
                      share of JavaScript, V8 builtins, runtime native code, kernel and libc
                      per process and the top symbols, printed and in DIR/profiles/linux-perf.*
                      (needs perf, and perf_event_paranoid <= 1 or root)
  --wake-meter        a thread of perf sleeps 1 ms at a time through the messaging phase and
                      keeps the late wake-ups (DIR/wake_delays.json); the analysis counts them
                      and how many messages over 10 ms were in flight during one over 3 ms
  --host-check D      before starting anything, spin one thread per core for D and count how
                      long the host stalled them (default 2s; 0s skips): the stalls bound the
                      latency tail any run can show here; in run.json, the log and the analysis

Cost choices: the servers hash passwords with scrypt N=${PERF_SCRYPT_N} (16 MiB, ~40 ms) rather
than the production 32768 so registering hundreds of users takes seconds, while staying a
real memory-hard hash; with --idle, N=${IDLE_SCRYPT_N} and ${IDLE_KDF_ITERATIONS} PBKDF2 iterations
make 10,000 logins feasible. The servers perf starts allow 2,000 register/login requests per
second per address (production default 5): every perf client comes from 127.0.0.1. All of
this only affects the register/login phases, which are timed separately from messaging
(phases in run.json).`;
