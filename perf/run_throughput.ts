/**
 * Throughput of a run over its messaging window (first `sent` to the last
 * first reception): received messages (and their payload bytes, MB = 10⁶ B)
 * per second, the offered load (sends per second between the first and the
 * last send), and the **steady state**: the same window with its first and
 * last 10 % cut off (`trim`), counting the first receptions inside it, with
 * the latency of the messages sent inside it.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * const { throughput } = (await analyzeRunDir("perf/testdata/clean")).summary;
 * console.log(throughput.messagesPerSec, throughput.steady.messagesPerSec);
 * ```
 * @module
 */
import type { MessageTable } from "./message_table.ts";
import { type LatencySummary, summarizeSorted } from "./percentiles.ts";

/**
 * Fraction of the messaging window cut from each end for steady state.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * import { DEFAULT_STEADY_TRIM } from "@fastchat/perf/run_throughput";
 * await analyzeRunDir("perf/testdata/clean", { steadyTrim: DEFAULT_STEADY_TRIM / 2 });
 * ```
 */
export const DEFAULT_STEADY_TRIM = 0.1;

/**
 * Throughput over one window.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * const { steady } = (await analyzeRunDir("perf/testdata/clean")).summary.throughput;
 * console.log(steady.messagesPerSec);
 * ```
 */
export interface WindowThroughput {
  startMs: number;
  endMs: number;
  /** Received messages (first receptions) inside the window. */
  messages: number;
  messagesPerSec: number;
  /** Payload megabytes (10⁶ bytes) per second. */
  mbPerSec: number;
}

/**
 * Throughput of a run: whole window plus steady state.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * const t = (await analyzeRunDir("perf/testdata/clean")).summary.throughput;
 * console.log(t.windowMs, t.messagesPerSec, t.sendRatePerSec);
 * ```
 */
export interface RunThroughput extends WindowThroughput {
  /** `endMs − startMs`: first send to last first reception. */
  windowMs: number;
  /** Payload bytes of the received messages. */
  bytes: number;
  /** Offered load: sent messages per second between the first and last send. */
  sendRatePerSec: number;
  steady: WindowThroughput & {
    /** Fraction cut from each end of the window. */
    trim: number;
    /** Latency of the messages sent inside the steady window. */
    latencyMs: LatencySummary;
  };
}

/**
 * `count` per second over `ms` milliseconds; NaN for no time (or NaN).
 *
 * @example
 * ```ts
 * import { perSecond } from "@fastchat/perf/run_throughput";
 * perSecond(50, 250); // 200
 * perSecond(3, 0); // NaN
 * ```
 */
export function perSecond(count: number, ms: number): number {
  return ms > 0 ? count / (ms / 1000) : NaN;
}

/** A run's messages in time order, as {@link runThroughput} reads them. */
export interface ThroughputSeriesInput {
  /** Send times of sent messages, ascending (epoch ms). */
  sentTimesMs: Float64Array;
  /** Latency of each sent message in send order; NaN when not received. */
  latencyBySendOrderMs: Float64Array;
  /** First reception times of received messages, ascending. */
  receivedTimesMs: Float64Array;
}

/**
 * The throughput of a run: `table` holds each message's first reception
 * time and payload bytes, `series` the same messages in time order.
 *
 * @example
 * ```ts
 * import { EV_RECEIVED, EV_SENT } from "@fastchat/perf/client_log";
 * import { MessageTable } from "@fastchat/perf/message_table";
 * import { runThroughput } from "@fastchat/perf/run_throughput";
 * const t = new MessageTable();
 * t.add("m1", EV_SENT, 0, 1000, "b", "dm");
 * t.add("m1", EV_RECEIVED, 500, 1000, "a", "dm");
 * const s = runThroughput(t, {
 *   sentTimesMs: Float64Array.of(0),
 *   latencyBySendOrderMs: Float64Array.of(500),
 *   receivedTimesMs: Float64Array.of(500),
 * });
 * console.log(s.messagesPerSec, s.mbPerSec); // 2 0.002
 * ```
 */
export function runThroughput(
  table: Pick<MessageTable, "size" | "recvT" | "recvCount" | "bytes">,
  series: ThroughputSeriesInput,
  trim: number = DEFAULT_STEADY_TRIM,
): RunThroughput {
  const { size: n, recvT, recvCount, bytes } = table;
  const { sentTimesMs: sentTimes, latencyBySendOrderMs: latBySend, receivedTimesMs: recvTimes } =
    series;
  let recvBytes = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (recvCount[i] > 0 && b > 0) recvBytes += b;
  }
  const firstSent = sentTimes.length ? sentTimes[0] : NaN;
  const lastSent = sentTimes.length ? sentTimes[sentTimes.length - 1] : NaN;
  const lastRecv = recvTimes.length ? recvTimes[recvTimes.length - 1] : NaN;
  const start = firstSent, end = lastRecv;
  const windowMs = end - start;
  const steadyStart = start + trim * windowMs;
  const steadyEnd = end - trim * windowMs;
  let steadyMsgs = 0, steadyBytes = 0;
  for (let i = 0; i < n; i++) {
    const t = recvT[i];
    if (t >= steadyStart && t <= steadyEnd) {
      steadyMsgs++;
      const b = bytes[i];
      if (b > 0) steadyBytes += b;
    }
  }
  const steadyLat: number[] = [];
  for (let k = 0; k < sentTimes.length; k++) {
    const t = sentTimes[k];
    if (t >= steadyStart && t <= steadyEnd && latBySend[k] === latBySend[k]) {
      steadyLat.push(latBySend[k]);
    }
  }
  const steadyMs = steadyEnd - steadyStart;
  return {
    startMs: start,
    endMs: end,
    windowMs,
    messages: recvTimes.length,
    bytes: recvBytes,
    messagesPerSec: perSecond(recvTimes.length, windowMs),
    mbPerSec: perSecond(recvBytes / 1e6, windowMs),
    sendRatePerSec: perSecond(sentTimes.length, lastSent - firstSent),
    steady: {
      trim,
      startMs: steadyStart,
      endMs: steadyEnd,
      messages: steadyMsgs,
      messagesPerSec: perSecond(steadyMsgs, steadyMs),
      mbPerSec: perSecond(steadyBytes / 1e6, steadyMs),
      latencyMs: summarizeSorted(Float64Array.from(steadyLat).sort()),
    },
  };
}
