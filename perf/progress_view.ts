/**
 * Progress of a load run on stderr: a cli-progress bar on a terminal, a
 * line every 2 s otherwise; and the sum of the workers' progress reports.
 *
 * @example
 * ```ts
 * import { ProgressView } from "@fastchat/perf/progress_view";
 * const view = new ProgressView(1000, null);
 * view.start();
 * ```
 * @module
 */
import cliProgress from "cli-progress";
import type { WorkerProgress } from "./worker_protocol.ts";

const encoder = new TextEncoder();

/**
 * Writes `perf: <line>` to stderr.
 *
 * @example
 * ```ts
 * import { log } from "./progress_view.ts";
 * log("cluster up"); // stderr: "perf: cluster up"
 * ```
 */
export function log(line: string): void {
  Deno.stderr.writeSync(encoder.encode(`perf: ${line}\n`));
}

/** The untyped parts of cli-progress we use. */
interface Bar {
  start(total: number, value: number, payload?: Record<string, unknown>): void;
  update(value: number, payload?: Record<string, unknown>): void;
  stop(): void;
}

/**
 * Sent/received on stderr: a cli-progress bar on a TTY, else a line every 2 s.
 *
 * @example
 * ```ts
 * import { ProgressView } from "./progress_view.ts";
 * import { sumProgress } from "./worker_protocol.ts";
 * const view = new ProgressView(1000, null); // 1,000 messages, no --duration
 * view.start();
 * view.update(sumProgress([]), performance.now());
 * view.stop();
 * ```
 */
export class ProgressView {
  readonly #tty = Deno.stderr.isTerminal();
  #bar: Bar | null = null;
  #lastLine = 0;

  constructor(readonly total: number | null, readonly durationMs: number | null) {}

  start(): void {
    if (!this.#tty) return;
    const bar: Bar = new cliProgress.SingleBar({
      format: this.total !== null
        ? "messaging [{bar}] {percentage}% | sent {sent} | received {value}/{total} | {rate} msg/s"
        : "messaging [{bar}] {value}/{total} s | sent {sent} | received {received} | {rate} msg/s",
      hideCursor: true,
      clearOnComplete: false,
      fps: 5,
    }, cliProgress.Presets.shades_classic);
    const total = this.total ?? Math.ceil((this.durationMs ?? 0) / 1000);
    bar.start(total, 0, { sent: 0, received: 0, rate: 0 });
    this.#bar = bar;
  }

  update(p: WorkerProgress, elapsedMs: number): void {
    const rate = elapsedMs > 0 ? Math.round(p.received / (elapsedMs / 1000)) : 0;
    if (this.#bar) {
      const value = this.total !== null
        ? p.received
        : Math.min(Math.floor(elapsedMs / 1000), Math.ceil((this.durationMs ?? 0) / 1000));
      this.#bar.update(value, { sent: p.sent, received: p.received, rate });
      return;
    }
    if (elapsedMs - this.#lastLine >= 2000) {
      this.#lastLine = elapsedMs;
      log(
        `${(elapsedMs / 1000).toFixed(1)}s sent ${p.sent}${
          this.total !== null ? `/${this.total}` : ""
        } acked ${p.acked} received ${p.received} (${rate} msg/s)`,
      );
    }
  }

  stop(): void {
    this.#bar?.stop();
    this.#bar = null;
  }
}

/**
 * Progress of the register and login phases: a bar on a TTY, else a line every 2 s.
 *
 * @example
 * ```ts
 * import { PhaseView } from "./progress_view.ts";
 * const view = new PhaseView("register", 100);
 * view.update(40, 2_000); // 40 of 100 after 2 s
 * view.stop();
 * ```
 */
export class PhaseView {
  readonly #tty = Deno.stderr.isTerminal();
  #bar: Bar | null = null;
  #lastLine = 0;

  constructor(readonly label: string, readonly total: number) {
    if (!this.#tty) return;
    const bar: Bar = new cliProgress.SingleBar({
      format: `${label.padEnd(9)} [{bar}] {value}/{total} | {rate}/s`,
      hideCursor: true,
      fps: 5,
    }, cliProgress.Presets.shades_classic);
    bar.start(total, 0, { rate: 0 });
    this.#bar = bar;
  }

  update(done: number, elapsedMs: number): void {
    const rate = elapsedMs > 0 ? (done / (elapsedMs / 1000)).toFixed(1) : "0";
    if (this.#bar) this.#bar.update(done, { rate });
    else if (elapsedMs - this.#lastLine >= 2000) {
      this.#lastLine = elapsedMs;
      log(`${this.label}: ${done}/${this.total} (${rate}/s)`);
    }
  }

  stop(): void {
    this.#bar?.stop();
    this.#bar = null;
  }
}
