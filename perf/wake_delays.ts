/**
 * Whether a run's slow messages waited for a core. With `perf --wake-meter`
 * a thread of the perf process sleeps 1 ms again and again during the
 * messaging phase and keeps every wake-up that came late
 * (`<run>/wake_delays.json`); a chat message at 2,000 msgs/s is a chain of
 * such wake-ups (the sender's worker, one or two servers, the recipient's
 * worker). The analysis counts the late wake-ups and checks how many of the
 * messages over 10 ms were in flight during one over 3 ms, against the same
 * messages moved to other times of the run: far more than chance says the
 * tail is the machine's scheduling (the host, or the run's own load), not
 * something FastChat waits for (perf/wake_delay_summary.ts).
 *
 * @example
 * ```ts
 * import { WakeDelayMeter, writeWakeDelays } from "./wake_delays.ts";
 * const meter = await WakeDelayMeter.start();
 * // ... the messaging phase ...
 * await writeWakeDelays(await meter.stop(), await Deno.makeTempDir());
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import type { WakeDelayReport, WakeDelayStart, WakeDelayStarted } from "./wake_delay_worker.ts";

/** The file in a run directory. */
export const WAKE_DELAYS_FILE = "wake_delays.json";

/**
 * `wake_delays.json`: the meter's settings and counts, and each late
 * wake-up as `[epoch ms its sleep began, ms late]`.
 *
 * @example
 * ```ts
 * import type { WakeDelayRecord } from "./wake_delays.ts";
 * const r: WakeDelayRecord = {
 *   periodMs: 1, minLateMs: 2, startedAtMs: 0, stoppedAtMs: 1000, wakeups: 450, lostEvents: 0, events: [[500, 12.5]],
 * };
 * ```
 */
export interface WakeDelayRecord extends Omit<WakeDelayReport, "kind" | "atMs" | "lateMs"> {
  events: [number, number][];
}

/**
 * A thread of this process that measures wake-up delays until stopped.
 *
 * @example
 * ```ts
 * import { WakeDelayMeter } from "./wake_delays.ts";
 * const m = await WakeDelayMeter.start();
 * await new Promise((r) => setTimeout(r, 100));
 * console.log((await m.stop()).wakeups);
 * ```
 */
export class WakeDelayMeter {
  readonly #worker: Worker;
  readonly #started: Promise<void>;
  readonly #report: Promise<WakeDelayReport>;

  private constructor(req: WakeDelayStart) {
    this.#worker = new Worker(new URL("./wake_delay_worker.ts", import.meta.url).href, {
      type: "module",
    });
    let started = () => {};
    this.#started = new Promise((r) => started = r);
    this.#report = new Promise((resolve, reject) => {
      this.#worker.onmessage = (e: MessageEvent<WakeDelayReport | WakeDelayStarted>) => {
        if (e.data.kind === "started") started();
        else resolve(e.data);
      };
      this.#worker.onerror = (e) => {
        e.preventDefault();
        reject(new FastChatError("INTERNAL", `wake meter: its thread failed: ${e.message}`));
      };
    });
    this.#report.catch(() => {}); // reported by start() or stop()
    this.#worker.postMessage(req);
  }

  /**
   * Starts a thread sleeping `periodMs` (default 1) at a time and keeping
   * wake-ups `minLateMs` (default 2) late; resolves once it measures.
   */
  static async start(
    opts: { periodMs?: number; minLateMs?: number } = {},
  ): Promise<WakeDelayMeter> {
    const m = new WakeDelayMeter({
      kind: "start",
      periodMs: opts.periodMs ?? 1,
      minLateMs: opts.minLateMs ?? 2,
      maxEvents: 300_000, // 4.8 MB; a 10-minute run at ~450 wake-ups a second has 270,000 in all
    });
    try {
      await Promise.race([m.#started, m.#report]);
    } catch (e) {
      m.#worker.terminate();
      throw e;
    }
    return m;
  }

  /** Stops the thread; resolves with what it measured (`INTERNAL` if it fails or hangs for 10 s). */
  async stop(): Promise<WakeDelayRecord> {
    this.#worker.postMessage({ kind: "stop" });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const r = await Promise.race([
        this.#report,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new FastChatError("INTERNAL", "wake meter: its thread did not stop")),
            10_000,
          );
        }),
      ]);
      const events: [number, number][] = Array.from(r.atMs, (at, i) => [at, r.lateMs[i]]);
      const { periodMs, minLateMs, startedAtMs, stoppedAtMs, wakeups, lostEvents } = r;
      return { periodMs, minLateMs, startedAtMs, stoppedAtMs, wakeups, lostEvents, events };
    } finally {
      clearTimeout(timer);
      this.#worker.terminate();
    }
  }
}

/**
 * Writes `DIR/wake_delays.json`.
 *
 * @example
 * ```ts
 * import { WakeDelayMeter, writeWakeDelays } from "./wake_delays.ts";
 * await writeWakeDelays(await (await WakeDelayMeter.start()).stop(), "/tmp/run");
 * ```
 */
export async function writeWakeDelays(r: WakeDelayRecord, dir: string): Promise<void> {
  await Deno.writeTextFile(`${dir}/${WAKE_DELAYS_FILE}`, JSON.stringify(r) + "\n");
}

/** The largest `wake_delays.json` read (32 MiB). */
const MAX_FILE_BYTES = 32 * 1024 * 1024;

const NUMBERS = [
  "periodMs",
  "minLateMs",
  "startedAtMs",
  "stoppedAtMs",
  "wakeups",
  "lostEvents",
] as const;

/**
 * Reads `DIR/wake_delays.json`: null if the run has none (no `--wake-meter`),
 * `INVALID_CONFIG` naming what is wrong if it is not a record of the right shape.
 *
 * @example
 * ```ts
 * import { readWakeDelays } from "./wake_delays.ts";
 * console.log(await readWakeDelays("perf/testdata/clean")); // null
 * ```
 */
export async function readWakeDelays(dir: string): Promise<WakeDelayRecord | null> {
  const path = `${dir}/${WAKE_DELAYS_FILE}`;
  const bad = (what: string) => new FastChatError("INVALID_CONFIG", `${path}: ${what}`);
  let raw: unknown;
  try {
    // Sized before it is read: the meter's 300,000 events write well under this.
    const { size } = await Deno.stat(path);
    if (size > MAX_FILE_BYTES) {
      throw bad(`${size} bytes, more than a meter writes (${MAX_FILE_BYTES})`);
    }
    raw = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    if (e instanceof FastChatError) throw e;
    throw bad(`not JSON (${(e as Error).message})`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw bad("not an object");
  const o = raw as Record<string, unknown>;
  for (const k of NUMBERS) {
    if (typeof o[k] !== "number" || !Number.isFinite(o[k])) throw bad(`${k} must be a number`);
  }
  if (!Array.isArray(o.events)) throw bad("events must be a list");
  for (const ev of o.events) {
    if (
      !Array.isArray(ev) || ev.length !== 2 ||
      !ev.every((x) => typeof x === "number" && Number.isFinite(x))
    ) {
      throw bad("each event must be [epoch ms, ms late]");
    }
  }
  return o as unknown as WakeDelayRecord;
}
