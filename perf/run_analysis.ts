/**
 * Joins a run's client logs by `message_id` and computes the run's results:
 * counts (sent, acked, delivered, received, lost, duplicated, undecryptable,
 * errors by code), latency percentiles, throughput and steady-state
 * throughput, and registration/login rates from `run.json`.
 *
 * Definitions (all times are the shared epoch-millisecond clock of the logs):
 * - **sent / acked / delivered**: distinct message ids with at least one such
 *   row (`delivered` is the delivery receipt seen by the sender).
 * - **received**: distinct message ids with at least one `received` row.
 * - **lost**: sent but never received (includes messages that failed with an
 *   error row, e.g. undecryptable ones); **lostSilently**: lost with no error
 *   row naming the message at all.
 * - **duplicated**: extra receptions (`received` rows beyond the first);
 *   **duplicatedMessages**: messages received more than once. (DM semantics:
 *   one recipient per message.)
 * - **undecryptable**: `error` rows whose code (`kind`) is DECRYPT_FAILED,
 *   BAD_SIGNATURE or UNKNOWN_KEY.
 * - **latency**: first reception time − sent time, per message received.
 * - **throughput** and **steady state**: see `run_throughput.ts`.
 *
 * Per-message state is collected in a `MessageTable` (`message_table.ts`):
 * typed arrays, no per-row objects.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * const { summary } = await analyzeRunDir("perf/testdata/clean");
 * console.log(summary.counts.lost, summary.latencyMs.p99);
 * ```
 * @module
 */
import { type LatencySummary, summarizeSorted } from "./percentiles.ts";
import type { ServerCounters } from "./server_counters.ts";
import type { HeapAllocation } from "./heap_profile.ts";
import type { LinuxPerfSummary } from "./linux_perf_report.ts";
import type { WakeDelaySummary } from "./wake_delay_summary.ts";
import type { WorkerSockets } from "./worker_socket_stats.ts";
import { readRun, type RowSink } from "./log_reader.ts";
import { F_ACKED, F_DELIVERED, F_ERROR, F_SENT, MessageTable } from "./message_table.ts";
import type { RunRecord } from "./run_schema.ts";
import type { FileSummary } from "./file_analysis.ts";
import type { GroupSummary } from "./group_analysis.ts";
import { modeAccumulator } from "./mode_analysis.ts";
import type { ProcessSummary } from "./process_analysis.ts";
import {
  DEFAULT_STEADY_TRIM,
  perSecond,
  type RunThroughput,
  runThroughput,
} from "./run_throughput.ts";

/**
 * Message counts of a run.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * const { counts } = (await analyzeRunDir("perf/testdata/lossy")).summary;
 * console.log(counts.lost, counts.duplicated); // 2 1
 * ```
 */
export interface RunCounts {
  /** Distinct messages with a `sent` row. */
  sent: number;
  acked: number;
  /** Delivery receipts (distinct messages with a `delivered` row). */
  delivered: number;
  /** Distinct messages received (decrypted) at least once. */
  received: number;
  /** All `received` rows. */
  receptions: number;
  /** Sent but never received. */
  lost: number;
  /** Lost with no error row naming the message. */
  lostSilently: number;
  /** Extra receptions beyond the first. */
  duplicated: number;
  /** Messages received more than once. */
  duplicatedMessages: number;
  /** Error rows with a crypto code (`CRYPTO_ERROR_CODES` of `message_table.ts`). */
  undecryptable: number;
  /** All error rows. */
  errors: number;
  /** Messages received but never logged as sent. */
  unmatchedReceived: number;
}

/**
 * Registration and login rates from `run.json` phases; NaN when absent.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * const { phases } = (await analyzeRunDir("perf/testdata/clean")).summary;
 * console.log(phases.registrationsPerSec); // 50
 * ```
 */
export interface PhaseRates {
  registrations: number;
  registrationsPerSec: number;
  logins: number;
  loginsPerSec: number;
  /** Length of the messaging phase per `run.json`. */
  messagingMs: number;
}

/**
 * The JSON-friendly result of one run. Unknown numbers are NaN (null in
 * JSON).
 *
 * @example
 * ```ts
 * import { analyzeRunDir, type RunSummary } from "@fastchat/perf/run_analysis";
 * const s: RunSummary = (await analyzeRunDir("perf/testdata/clean")).summary;
 * console.log(JSON.stringify(s.latencyMs));
 * ```
 */
export interface RunSummary {
  /** The run directory as given. */
  dir: string;
  /** Last path component of `dir`. */
  name: string;
  info: RunRecord;
  /** Client logs read. */
  files: number;
  /** Data rows read. */
  rows: number;
  counts: RunCounts;
  /** Error rows per code (`kind`; `UNSPECIFIED` when empty). */
  errorsByCode: Record<string, number>;
  /** Latency of every received message, ms. */
  latencyMs: LatencySummary;
  throughput: RunThroughput;
  phases: PhaseRates;
  /**
   * Signs that the logs do not belong together: client logs not matching
   * `config.clients`, sends outside `run.json`'s messaging phase (±1 s).
   */
  warnings: string[];
  /** `--mode group`: group figures (`group_analysis.ts`). */
  group?: GroupSummary;
  /** `--mode file`: file figures (`file_analysis.ts`). */
  file?: FileSummary;
  /**
   * CPU, RSS and GC of every process (`processes.csv`, see
   * `process_analysis.ts`); set by `deno task analyze`; null when the run
   * has no `processes.csv`.
   */
  processes?: ProcessSummary | null;
  /**
   * The servers' shutdown counters (`server_counters.ts`); set by `deno
   * task analyze`; null when no server logged them.
   */
  serverCounters?: ServerCounters | null;
  /**
   * What the load workers allocated while sending (`perf --heap-sample`,
   * `heap_profile.ts`); set by `deno task analyze`; null when not sampled.
   */
  heapAllocation?: HeapAllocation | null;
  /**
   * The servers' and load workers' on-CPU samples by part (`perf
   * --linux-perf`, `linux_perf_report.ts`); set by `deno task analyze`;
   * null when not recorded.
   */
  linuxPerf?: LinuxPerfSummary[] | null;
  /**
   * Late wake-ups in the messaging phase and the slow messages during them
   * (`perf --wake-meter`, `wake_delays.ts`); set by `deno task analyze`;
   * null when not measured.
   */
  wakeDelays?: WakeDelaySummary | null;
  /**
   * The load workers' socket counters from "go" on
   * (`worker_socket_stats.ts`); set by `deno task analyze`; null when no
   * worker logged them.
   */
  workerSockets?: WorkerSockets | null;
}

/**
 * Per-message series kept for charts.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * const { series } = await analyzeRunDir("perf/testdata/clean");
 * console.log(series.sortedLatencyMs.length); // 10
 * ```
 */
export interface RunSeries {
  /** Send times of sent messages, ascending (epoch ms). */
  sentTimesMs: Float64Array;
  /** Latency of each sent message in send order; NaN when not received. */
  latencyBySendOrderMs: Float64Array;
  /** Latencies of received messages, ascending. */
  sortedLatencyMs: Float64Array;
  /** First reception times of received messages, ascending. */
  receivedTimesMs: Float64Array;
}

/**
 * A run's summary plus the series behind its charts.
 *
 * @example
 * ```ts
 * import { analyzeRunDir, type RunAnalysis } from "@fastchat/perf/run_analysis";
 * const run: RunAnalysis = await analyzeRunDir("perf/testdata/clean");
 * console.log(run.summary.name, run.series.sentTimesMs.length); // clean 10
 * ```
 */
export interface RunAnalysis {
  summary: RunSummary;
  series: RunSeries;
}

/**
 * Options of {@link analyzeRunDir} / {@link RunAccumulator.finish}.
 *
 * @example
 * ```ts
 * import { analyzeRunDir, type RunAnalysisOptions } from "@fastchat/perf/run_analysis";
 * const opts: RunAnalysisOptions = { steadyTrim: 0.2 };
 * await analyzeRunDir("perf/testdata/clean", opts);
 * ```
 */
export interface RunAnalysisOptions {
  /** Fraction cut from each end of the messaging window (default 0.1). */
  steadyTrim?: number;
}

/**
 * Collects rows (via {@link RunAccumulator.sink}) and computes the results.
 *
 * @example
 * ```ts
 * import { EV_RECEIVED, EV_SENT } from "@fastchat/perf/client_log";
 * import { RunAccumulator } from "@fastchat/perf/run_analysis";
 * import { readRunRecord } from "@fastchat/perf/run_schema";
 * const acc = new RunAccumulator();
 * acc.add("m1", EV_SENT, 1000, 100, "bob", "dm");
 * acc.add("m1", EV_RECEIVED, 1005, 100, "alice", "dm");
 * const { summary } = acc.finish(
 *   await readRunRecord("perf/testdata/clean"),
 *   { dir: "run", files: 2, rows: 2 },
 * );
 * console.log(summary.latencyMs.p50); // 5
 * ```
 */
export class RunAccumulator extends MessageTable {
  /** A {@link RowSink} feeding this accumulator. */
  readonly sink: RowSink = (_file, id, event, timeMs, bytes, peer, kind) =>
    this.add(id, event, timeMs, bytes, peer, kind);

  /** Computes the results; `meta` describes where the rows came from. */
  finish(
    info: RunRecord,
    meta: { dir: string; files: number; rows: number },
    opts: RunAnalysisOptions = {},
  ): RunAnalysis {
    const trim = opts.steadyTrim ?? DEFAULT_STEADY_TRIM;
    const n = this.size;
    const sentT = this.sentT, recvT = this.recvT;
    const rc = this.recvCount, flags = this.flags;
    const c: RunCounts = {
      sent: 0,
      acked: 0,
      delivered: 0,
      received: 0,
      receptions: 0,
      lost: 0,
      lostSilently: 0,
      duplicated: 0,
      duplicatedMessages: 0,
      undecryptable: this.undecryptable,
      errors: this.errorRows,
      unmatchedReceived: 0,
    };
    for (let i = 0; i < n; i++) {
      const f = flags[i];
      const r = rc[i];
      if (f & F_SENT) c.sent++;
      if (f & F_ACKED) c.acked++;
      if (f & F_DELIVERED) c.delivered++;
      if (r > 0) {
        c.received++;
        c.receptions += r;
        if (r > 1) {
          c.duplicated += r - 1;
          c.duplicatedMessages++;
        }
        if (!(f & F_SENT)) c.unmatchedReceived++;
      } else if (f & F_SENT) {
        c.lost++;
        if (!(f & F_ERROR)) c.lostSilently++;
      }
    }

    // Sent messages in send order.
    const order = new Uint32Array(c.sent);
    for (let i = 0, k = 0; i < n; i++) if (flags[i] & F_SENT) order[k++] = i;
    order.sort((a, b) => sentT[a] - sentT[b]);
    const sentTimes = new Float64Array(c.sent);
    const latBySend = new Float64Array(c.sent);
    let matched = 0;
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      sentTimes[k] = sentT[i];
      const lat = recvT[i] - sentT[i]; // NaN when never received
      latBySend[k] = lat;
      if (lat === lat) matched++;
    }
    const sortedLat = new Float64Array(matched);
    for (let k = 0, j = 0; k < latBySend.length; k++) {
      const v = latBySend[k];
      if (v === v) sortedLat[j++] = v;
    }
    sortedLat.sort();
    const recvTimes = new Float64Array(c.received);
    for (let i = 0, j = 0; i < n; i++) if (rc[i] > 0) recvTimes[j++] = recvT[i];
    recvTimes.sort();

    const throughput = runThroughput(this, {
      sentTimesMs: sentTimes,
      latencyBySendOrderMs: latBySend,
      receivedTimesMs: recvTimes,
    }, trim);

    const ph = info.phases;
    const registrations = ph?.register?.count ?? NaN;
    const logins = ph?.login?.count ?? NaN;
    const phases: PhaseRates = {
      registrations,
      registrationsPerSec: perSecond(registrations, ph?.register?.ms ?? NaN),
      logins,
      loginsPerSec: perSecond(logins, ph?.login?.ms ?? NaN),
      messagingMs: (ph?.messaging?.endMs ?? NaN) - (ph?.messaging?.startMs ?? NaN),
    };

    const warnings: string[] = [];
    if (meta.files !== info.config.clients) {
      warnings.push(`${meta.files} client logs for ${info.config.clients} clients`);
    }
    const msgPhase = ph?.messaging;
    if (msgPhase?.startMs !== undefined && msgPhase.endMs !== undefined) {
      const lo = msgPhase.startMs - 1_000, hi = msgPhase.endMs + 1_000;
      let outside = 0;
      for (let k = 0; k < sentTimes.length; k++) {
        if (sentTimes[k] < lo || sentTimes[k] > hi) outside++;
      }
      if (outside) {
        warnings.push(
          `${outside} of ${c.sent} sends lie outside the messaging phase of run.json ` +
            `(client logs left over from another run?)`,
        );
      }
    }
    const errorsByCode: Record<string, number> = {};
    for (
      const [k, v] of [...this.errorsByCode].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    ) {
      errorsByCode[k] = v;
    }
    const summary: RunSummary = {
      dir: meta.dir,
      name: baseName(meta.dir),
      info,
      files: meta.files,
      rows: meta.rows,
      counts: c,
      errorsByCode,
      latencyMs: summarizeSorted(sortedLat),
      throughput,
      phases,
      warnings,
    };
    return {
      summary,
      series: {
        sentTimesMs: sentTimes,
        latencyBySendOrderMs: latBySend,
        sortedLatencyMs: sortedLat,
        receivedTimesMs: recvTimes,
      },
    };
  }
}

/**
 * Last non-empty path component (`"a/b/"` → `"b"`).
 *
 * @example
 * ```ts
 * import { baseName } from "@fastchat/perf/run_analysis";
 * baseName("perf/out/run-1/"); // "run-1"
 * ```
 */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]+/).filter((p) => p !== "" && p !== ".");
  return parts.length ? parts[parts.length - 1] : path;
}

/**
 * Reads and analyzes one run directory.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * const { summary } = await analyzeRunDir("perf/testdata/clean");
 * console.log(summary.throughput.messagesPerSec);
 * ```
 */
export async function analyzeRunDir(
  dir: string,
  opts: RunAnalysisOptions = {},
): Promise<RunAnalysis> {
  const acc = new RunAccumulator();
  const mode = await modeAccumulator(dir);
  const sink: RowSink = mode
    ? (...row) => {
      acc.sink(...row);
      mode.sink(...row);
    }
    : acc.sink;
  const { info, files, rows } = await readRun(dir, sink);
  const run = acc.finish(info, { dir, files: files.length, rows }, opts);
  mode?.apply(run.summary);
  return run;
}

/**
 * Whether a run lost messages or had undecryptable ones (what `--fail-on-loss` checks).
 *
 * @example
 * ```ts
 * import { analyzeRunDir, isLossy } from "@fastchat/perf/run_analysis";
 * isLossy((await analyzeRunDir("perf/testdata/lossy")).summary); // true
 * ```
 */
export function isLossy(s: RunSummary): boolean {
  return s.counts.lost > 0 || s.counts.undecryptable > 0;
}
