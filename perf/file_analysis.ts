/**
 * The analysis of a `--mode file` run: per file, the time to complete (the
 * sender's `sent` row, written when the upload starts, to the receiver's
 * `received` row, written once the download is complete and its SHA-256
 * checked) and its MB/s; over the run, MB/s of all files (bytes received
 * from the first upload's start to the last completion; MB = 10^6 bytes)
 * and the cluster's memory from `run.json` (`file`).
 *
 * @example
 * ```ts
 * import { EV_RECEIVED, EV_SENT } from "./client_log.ts";
 * import { FileAccumulator } from "./file_analysis.ts";
 * const acc = new FileAccumulator();
 * acc.sink(0, "f1", EV_SENT, 1000, 2_000_000, "bob", "file");
 * acc.sink(1, "f1", EV_RECEIVED, 2000, 2_000_000, "alice", "file");
 * acc.finish().mbPerSec; // 2
 * ```
 * @module
 */
import { EV_ERROR, EV_RECEIVED, EV_SENT } from "./client_log.ts";
import type { FileModeRecord } from "./file_mode.ts";
import type { RowSink } from "./log_reader.ts";
import { type LatencySummary, summarizeSorted } from "./percentiles.ts";
import { perSecond } from "./run_throughput.ts";

/**
 * The file figures of a run (NaN where unknown).
 *
 * @example
 * ```ts
 * import { FileAccumulator, type FileSummary } from "./file_analysis.ts";
 * const f: FileSummary = new FileAccumulator().finish();
 * console.log(`${f.mbPerSec} MB/s, p50 ${f.completeMs.p50} ms`);
 * ```
 */
export interface FileSummary {
  /** Files sent (uploads started and handed over). */
  files: number;
  /** Files received complete and verified. */
  completed: number;
  /** `error` rows naming a file (e.g. FILE_MISMATCH, TRANSFER_FAILED). */
  failed: number;
  bytesReceived: number;
  /** First upload start to last completion. */
  windowMs: number;
  /** All files: bytes received per second over the window, in MB (10^6 bytes). */
  mbPerSec: number;
  /** Time to complete, per file. */
  completeMs: LatencySummary;
  /** MB/s of each file on its own (its bytes over its time to complete). */
  fileMbPerSec: LatencySummary;
  /** Highest VmRSS (KiB) of each cluster process during messaging, and at "go". */
  rssKbPeak: Record<string, number>;
  rssKbBefore: Record<string, number>;
}

/**
 * Collects a file run's rows ({@link FileAccumulator.sink}) and computes the
 * {@link FileSummary}.
 *
 * @example
 * ```ts
 * import { FileAccumulator } from "./file_analysis.ts";
 * new FileAccumulator().finish().files; // 0
 * ```
 */
export class FileAccumulator {
  readonly #sent = new Map<string, number>();
  readonly #recv = new Map<string, { t: number; bytes: number }>();
  #failed = 0;

  /** Feeds one row. */
  readonly sink: RowSink = (_file, id, event, timeMs, bytes) => {
    if (event === EV_SENT) {
      if (!this.#sent.has(id)) this.#sent.set(id, timeMs);
    } else if (event === EV_RECEIVED) {
      if (!this.#recv.has(id)) this.#recv.set(id, { t: timeMs, bytes });
    } else if (event === EV_ERROR && id !== "") this.#failed++;
  };

  /** The figures of the rows fed so far; `record` is `run.json`'s `file`. */
  finish(record?: FileModeRecord): FileSummary {
    const complete: number[] = [];
    const rates: number[] = [];
    let first = Infinity, last = -Infinity, bytes = 0;
    for (const t of this.#sent.values()) first = Math.min(first, t);
    for (const [id, r] of this.#recv) {
      const s = this.#sent.get(id);
      if (s === undefined) continue;
      const ms = r.t - s;
      complete.push(ms);
      rates.push(perSecond(r.bytes / 1e6, ms));
      bytes += r.bytes;
      last = Math.max(last, r.t);
    }
    const windowMs = complete.length > 0 ? last - first : NaN;
    return {
      files: this.#sent.size,
      completed: complete.length,
      failed: this.#failed,
      bytesReceived: bytes,
      windowMs,
      mbPerSec: perSecond(bytes / 1e6, windowMs),
      completeMs: summarizeSorted(Float64Array.from(complete).sort()),
      fileMbPerSec: summarizeSorted(Float64Array.from(rates).sort()),
      rssKbPeak: record?.rssKbPeak ?? {},
      rssKbBefore: record?.rssKbBefore ?? {},
    };
  }
}
