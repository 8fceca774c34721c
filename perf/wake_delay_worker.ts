/**
 * The thread of {@link WakeDelayMeter} (perf/wake_delays.ts): asked to
 * start, it sleeps `periodMs` again and again (`setTimeout`) and keeps every
 * wake-up that came at least `minLateMs` later than asked (the time a woken
 * thread waited for a core: the machine's other work, the hypervisor); asked
 * to stop, it posts a {@link WakeDelayReport} and closes.
 *
 * @example
 * ```ts
 * const w = new Worker(new URL("./wake_delay_worker.ts", import.meta.url).href, { type: "module" });
 * w.onmessage = (e) => e.data.kind === "report" && console.log(e.data.wakeups, "wake-ups");
 * w.postMessage({ kind: "start", periodMs: 1, minLateMs: 2, maxEvents: 1000 });
 * setTimeout(() => w.postMessage({ kind: "stop" }), 100);
 * ```
 * @module
 */

/** Start sleeping and measuring. */
export interface WakeDelayStart {
  kind: "start";
  /** How long each sleep asks for, ms. */
  periodMs: number;
  /** Wake-ups later than this (beyond `periodMs`) are kept, ms. */
  minLateMs: number;
  /** At most this many late wake-ups are kept; later ones are only counted. */
  maxEvents: number;
}

/** What the thread posts once it sleeps and measures. */
export interface WakeDelayStarted {
  kind: "started";
}

/** What the thread reports when stopped. */
export interface WakeDelayReport {
  kind: "report";
  periodMs: number;
  minLateMs: number;
  /** Epoch ms of the first sleep and of the stop. */
  startedAtMs: number;
  stoppedAtMs: number;
  /** Sleeps completed. */
  wakeups: number;
  /** Late wake-ups past `maxEvents`, counted only. */
  lostEvents: number;
  /** Each kept late wake-up: when its sleep began (epoch ms) and how late it woke (ms). */
  atMs: Float64Array;
  lateMs: Float64Array;
}

interface WorkerScope {
  onmessage: ((e: MessageEvent<WakeDelayStart | { kind: "stop" }>) => void) | null;
  postMessage(m: WakeDelayReport | WakeDelayStarted): void;
  close(): void;
}

/**
 * Sleeps until `running()` turns false and records the late wake-ups
 * (what the worker runs; exported to be tested in one thread).
 *
 * @example
 * ```ts
 * import { measureWakeDelays } from "./wake_delay_worker.ts";
 * let on = true;
 * setTimeout(() => on = false, 50);
 * const r = await measureWakeDelays({ kind: "start", periodMs: 1, minLateMs: 2, maxEvents: 100 }, () => on);
 * console.log(r.wakeups > 0);
 * ```
 */
export async function measureWakeDelays(
  req: WakeDelayStart,
  running: () => boolean,
): Promise<WakeDelayReport> {
  const cap = Math.max(0, Math.floor(req.maxEvents));
  const atMs = new Float64Array(cap), lateMs = new Float64Array(cap);
  let n = 0, lostEvents = 0, wakeups = 0;
  const origin = performance.timeOrigin;
  const startedAtMs = origin + performance.now();
  while (running()) {
    const before = performance.now();
    await new Promise((r) => setTimeout(r, req.periodMs));
    const late = performance.now() - before - req.periodMs;
    wakeups++;
    if (late >= req.minLateMs) {
      if (n < cap) {
        atMs[n] = origin + before;
        lateMs[n++] = late;
      } else lostEvents++;
    }
  }
  return {
    kind: "report",
    periodMs: req.periodMs,
    minLateMs: req.minLateMs,
    startedAtMs,
    stoppedAtMs: origin + performance.now(),
    wakeups,
    lostEvents,
    atMs: atMs.slice(0, n),
    lateMs: lateMs.slice(0, n),
  };
}

// In a worker (not when a test imports this module): start, then report on stop.
if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
  const scope = globalThis as unknown as WorkerScope;
  let on = false;
  scope.onmessage = (e) => {
    if (e.data.kind === "start" && !on) {
      on = true;
      const report = measureWakeDelays(e.data, () => on);
      scope.postMessage({ kind: "started" });
      report.then((r) => {
        scope.postMessage(r);
        scope.close();
      });
    } else if (e.data.kind === "stop") on = false;
  };
}
