/**
 * The channel between the parent (`worker_handle.ts`) and a load worker
 * process (`load_worker.ts`): the {@link WorkerConfig} on the worker's
 * command line, {@link WorkerCommand}s on its stdin and
 * {@link WorkerMessage}s on its stdout, one JSON object per line
 * ({@link readLines}); plus {@link WorkerProgress}, a worker's counters.
 *
 * @example
 * ```ts
 * import { readLines, type WorkerMessage } from "./worker_protocol.ts";
 * const out = ReadableStream.from([new TextEncoder().encode('{"t":"hello","worker":0,"clients":2}\n')]);
 * for await (const line of readLines(out)) {
 *   const m = JSON.parse(line) as WorkerMessage;
 *   console.log(m.t); // "hello"
 * }
 * ```
 * @module
 */
import { addCounters, type ClientCounters, zeroCounters } from "./client_counters.ts";
import type { RunConfig } from "./run_schema.ts";
import type { WarmupGap } from "./warmup_audit.ts";

/**
 * What the parent tells a worker on its command line: the run's settings
 * that concern clients (see {@link RunConfig}; `clients` counts the whole
 * run, `idle` keeps registered sessions, writes no CSVs and sends nothing),
 * plus which worker it is, the load balancer and the run directory.
 *
 * @example
 * ```ts
 * import { parseRunArgs } from "./run_config.ts";
 * import { workerConfig } from "./worker_pool.ts";
 * import type { WorkerConfig } from "./worker_protocol.ts";
 * const cfg = parseRunArgs(["--clients", "4", "--messages", "10"]);
 * const w: WorkerConfig = workerConfig(cfg, 0, { host: "127.0.0.1", port: 7700 }, "/tmp/run");
 * ```
 */
export type WorkerConfig =
  & Pick<
    RunConfig,
    | "workers"
    | "clients"
    | "peers"
    | "seed"
    | "kdfIterations"
    | "identityPool"
    | "send"
    | "payloadBytes"
    | "messages"
    | "durationMs"
    | "idle"
    | "mode"
    | "groupSize"
    | "groupSenders"
    | "fileBytes"
    | "driver"
    | "heapSample"
    | "heapSurvivors"
  >
  & {
    worker: number;
    lb: { host: string; port: number };
    /** Run directory: CSVs go to `<runDir>/clients/<user>.csv`. */
    runDir: string;
    /** Concurrent registrations/logins (default 32). */
    concurrency?: number;
  };

/**
 * Commands on a worker's stdin, one JSON object per line.
 *
 * @example
 * ```ts
 * import type { WorkerCommand } from "./worker_protocol.ts";
 * const go: WorkerCommand = { cmd: "go", startMs: performance.timeOrigin + performance.now() };
 * ```
 */
export type WorkerCommand =
  | { cmd: "register" }
  | { cmd: "login" }
  | { cmd: "prepare" }
  | { cmd: "warmup" }
  | { cmd: "persist" }
  /** The warm-up timed out: report the warm-up receipts still missing. */
  | { cmd: "warm_missing" }
  /** Say, for these missing receipts, whether their recipients displayed the message. */
  | { cmd: "warm_check"; gaps: WarmupGap[] }
  | { cmd: "go"; startMs: number }
  | { cmd: "stop" };

/**
 * A worker's aggregate counters plus whether all its clients finished sending.
 *
 * @example
 * ```ts
 * import type { WorkerProgress } from "./worker_protocol.ts";
 * import { workerProgress } from "./worker_protocol.ts";
 * const p: WorkerProgress = workerProgress({ sent: 10, doneSending: true });
 * ```
 */
export interface WorkerProgress extends ClientCounters {
  doneSending: boolean;
  /** Users registered so far (new accounts). */
  registered: number;
  /** Users whose registration found them existing (USER_EXISTS). */
  existing: number;
  loggedIn: number;
  /** Key warm-up: messages sent by, and messages and receipts received by, this worker's clients. */
  warmSent: number;
  warmReceived: number;
  warmDelivered: number;
}

/**
 * Lines on a worker's stdout.
 *
 * @example
 * ```ts
 * import type { WorkerMessage } from "./worker_protocol.ts";
 * const m: WorkerMessage = JSON.parse('{"t":"hello","worker":0,"clients":2}');
 * if (m.t === "hello") console.log(m.clients);
 * ```
 */
export type WorkerMessage =
  | { t: "hello"; worker: number; clients: number }
  | {
    t: "registered";
    worker: number;
    registered: number;
    existing: number;
    /** Requests refused with RATE_LIMITED (and retried) during the phase. */
    rateLimited: number;
  }
  | {
    t: "ready";
    worker: number;
    loggedIn: number;
    kept: number;
    rateLimited: number;
    /** user -> [server id, server address] */
    servers: Record<string, [string, string]>;
  }
  /** Mode setup done: groups created (their first members), test files written. */
  | { t: "prepared"; worker: number }
  /** Every warm-up message of the worker's clients is queued. */
  | { t: "warmed"; worker: number; sent: number }
  /** Warm-up receipts the worker's clients still await; the answer to `warm_check`. */
  | { t: "warm_missing"; worker: number; gaps: WarmupGap[] }
  | { t: "warm_checked"; worker: number; gaps: WarmupGap[] }
  /** Every client's key state is written (nothing left to save during timing). */
  | { t: "persisted"; worker: number }
  | ({ t: "progress"; worker: number } & WorkerProgress)
  | { t: "disconnected"; worker: number; user: string; timeMs: number; code: string }
  | { t: "reconnected"; worker: number; user: string; timeMs: number; server: string }
  | { t: "failed"; worker: number; message: string }
  | ({ t: "flushed"; worker: number } & WorkerProgress);

/**
 * The lines of a byte stream (UTF-8; `\n` ends a line, a last line without
 * one is yielded too).
 *
 * @example
 * ```ts
 * import { readLines } from "./worker_protocol.ts";
 * const input = ReadableStream.from([new TextEncoder().encode("a\nb")]);
 * for await (const line of readLines(input)) console.log(line); // "a", "b"
 * ```
 */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let partial = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (partial + text).split("\n");
    partial = parts.pop()!;
    yield* parts;
  }
  if (partial) yield partial;
}

/**
 * A worker's progress with every count zero, overridden by `p`.
 *
 * @example
 * ```ts
 * import { workerProgress } from "./worker_protocol.ts";
 * workerProgress({ sent: 3 }).received; // 0
 * ```
 */
export function workerProgress(p: Partial<WorkerProgress> = {}): WorkerProgress {
  return {
    ...zeroCounters(),
    doneSending: false,
    registered: 0,
    existing: 0,
    loggedIn: 0,
    warmSent: 0,
    warmReceived: 0,
    warmDelivered: 0,
    ...p,
  };
}

/**
 * The workers' progress summed; `allDone` once every worker has reported
 * and finished sending (a null entry: a worker not heard from yet).
 *
 * @example
 * ```ts
 * import { sumProgress, workerProgress } from "./worker_protocol.ts";
 * const s = sumProgress([workerProgress({ sent: 2, doneSending: true }), workerProgress({ sent: 3 })]);
 * [s.sent, s.allDone]; // [5, false]
 * ```
 */
export function sumProgress(ps: (WorkerProgress | null)[]): WorkerProgress & { allDone: boolean } {
  const s: WorkerProgress & { allDone: boolean } = { ...workerProgress(), allDone: ps.length > 0 };
  for (const p of ps) {
    if (!p) {
      s.allDone = false;
      continue;
    }
    addCounters(s, p);
    s.registered += p.registered;
    s.existing += p.existing;
    s.loggedIn += p.loggedIn;
    s.warmSent += p.warmSent;
    s.warmReceived += p.warmReceived;
    s.warmDelivered += p.warmDelivered;
    if (!p.doneSending) s.allDone = false;
  }
  s.doneSending = s.allDone;
  return s;
}
