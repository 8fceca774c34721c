/**
 * The load plan: every random choice of a run (recipients, payload text,
 * delays), drawn from the seeded streams of `seeded_rng.ts`, plus the
 * arithmetic that spreads clients over workers and a total rate over
 * clients. Pure functions, no I/O, no clock: the unit tests check them on
 * many seeded samples.
 *
 * @example
 * ```ts
 * import { pickRecipient } from "./load_plan.ts";
 * import { streamRng } from "./seeded_rng.ts";
 * const rng = streamRng("s1", 3, "recipients");
 * pickRecipient(rng, 3, 10); // one of 0..9 except 3, the same on every run
 * ```
 * @module
 */
import type { DelaySpec, SendModel } from "./run_schema.ts";
import { type Rng, streamRng } from "./seeded_rng.ts";

/**
 * A uniformly random client other than `self` among `clients` (needs at
 * least 2), or with `peers` (its `--peers` set, `peer_graph.ts`) a uniformly
 * random one of those. Both draw one number: for the sorted set of all
 * other clients the two agree, so `--peers N-1` replays the default.
 *
 * @example
 * ```ts
 * import { pickRecipient } from "./load_plan.ts";
 * import { mulberry32 } from "./seeded_rng.ts";
 * pickRecipient(mulberry32(1), 0, 2); // always 1
 * pickRecipient(mulberry32(1), 0, 10, [4, 6]); // 4 or 6
 * ```
 */
export function pickRecipient(
  rng: Rng,
  self: number,
  clients: number,
  peers: readonly number[] | null = null,
): number {
  if (peers !== null) {
    if (peers.length === 0) throw new RangeError(`client ${self} has no peers`);
    return peers[Math.floor(rng() * peers.length)];
  }
  if (clients < 2) throw new RangeError("a recipient needs at least 2 clients");
  const j = Math.floor(rng() * (clients - 1));
  return j >= self ? j + 1 : j;
}

/**
 * Sends per client whose recipients the key warm-up of a `--duration` run covers.
 *
 * @example
 * ```ts
 * import { WARMUP_PICKS_FOR_DURATION } from "./load_plan.ts";
 * const messages: number | null = null; // --duration: no message count
 * const picks = messages ?? WARMUP_PICKS_FOR_DURATION;
 * ```
 */
export const WARMUP_PICKS_FOR_DURATION = 1000;

/**
 * The distinct recipients client `self` will pick in its first `picks`
 * sends (among `peers` when given): replays its `recipients` stream, so the
 * key warm-up covers exactly the pairs the timed phase uses.
 *
 * @example
 * ```ts
 * import { plannedRecipients } from "./load_plan.ts";
 * plannedRecipients("s1", 0, 2, 5); // [1]
 * ```
 */
export function plannedRecipients(
  seed: string,
  self: number,
  clients: number,
  picks: number,
  peers: readonly number[] | null = null,
): number[] {
  const rng = streamRng(seed, self, "recipients");
  const seen = new Set<number>();
  const all = peers?.length ?? clients - 1;
  for (let i = 0; i < picks && seen.size < all; i++) {
    seen.add(pickRecipient(rng, self, clients, peers));
  }
  return [...seen];
}

/**
 * The recipients client `self` warms keys up with: those of its `messages`
 * sends (see {@link plannedRecipients}); with `--duration` (`messages`
 * null), every one of its `peers`, or without a peer set those of its first
 * {@link WARMUP_PICKS_FOR_DURATION} picks.
 *
 * @example
 * ```ts
 * import { warmupRecipients } from "./load_plan.ts";
 * warmupRecipients("s1", 0, 100, null, [5, 7]); // [5, 7]
 * ```
 */
export function warmupRecipients(
  seed: string,
  self: number,
  clients: number,
  messages: number | null,
  peers: readonly number[] | null,
): number[] {
  if (messages === null && peers !== null) return [...peers];
  return plannedRecipients(seed, self, clients, messages ?? WARMUP_PICKS_FOR_DURATION, peers);
}

const PRINTABLE_FIRST = 0x20;
const PRINTABLE_COUNT = 0x7f - 0x20; // space .. tilde

/**
 * `n` random printable ASCII characters (one byte each in UTF-8).
 *
 * @example
 * ```ts
 * import { randomText } from "./load_plan.ts";
 * import { mulberry32 } from "./seeded_rng.ts";
 * randomText(mulberry32(7), 5).length; // 5
 * ```
 */
export function randomText(rng: Rng, n: number): string {
  const codes = new Uint8Array(n);
  for (let i = 0; i < n; i++) codes[i] = PRINTABLE_FIRST + Math.floor(rng() * PRINTABLE_COUNT);
  return new TextDecoder().decode(codes);
}

/**
 * Payload texts of exactly `bytes` printable bytes. A seeded pool of random
 * text (the payload size plus at least 1 KiB) is generated once; each
 * message is a slice at a seeded random offset, so 64 KiB payloads cost a
 * copy rather than 64 Ki random draws each.
 *
 * @example
 * ```ts
 * import { PayloadSource } from "./load_plan.ts";
 * import { streamRng } from "./seeded_rng.ts";
 * const p = new PayloadSource(streamRng("s", 0, "payload"), 1024);
 * p.next().length; // 1024
 * ```
 */
export class PayloadSource {
  readonly #pool: string;
  readonly #rng: Rng;
  readonly bytes: number;

  constructor(rng: Rng, bytes: number) {
    this.#rng = rng;
    this.bytes = bytes;
    this.#pool = randomText(rng, bytes + Math.max(bytes, 1024));
  }

  /** The next payload. */
  next(): string {
    const off = Math.floor(this.#rng() * (this.#pool.length - this.bytes + 1));
    return this.#pool.slice(off, off + this.bytes);
  }
}

/**
 * A sampler of delays in ms for `spec`: constant, exponential (inverse
 * CDF) or normal (Box-Muller, negative draws clamped to 0).
 *
 * @example
 * ```ts
 * import { delaySampler } from "./load_plan.ts";
 * import { mulberry32 } from "./seeded_rng.ts";
 * const d = delaySampler({ dist: "exp", meanMs: 12 }, mulberry32(1));
 * d(); // >= 0, 12 on average
 * ```
 */
export function delaySampler(spec: DelaySpec, rng: Rng): () => number {
  switch (spec.dist) {
    case "const":
      return () => spec.ms;
    case "exp":
      return () => -spec.meanMs * Math.log(1 - rng());
    case "normal": {
      let spare: number | null = null;
      return () => {
        let z: number;
        if (spare !== null) {
          z = spare;
          spare = null;
        } else {
          const u = 1 - rng(); // (0, 1]
          const v = rng();
          const r = Math.sqrt(-2 * Math.log(u));
          z = r * Math.cos(2 * Math.PI * v);
          spare = r * Math.sin(2 * Math.PI * v);
        }
        return Math.max(0, spec.meanMs + spec.sdMs * z);
      };
    }
  }
}

/**
 * Mean of a delay distribution (before clamping), in ms.
 *
 * @example
 * ```ts
 * import { delayMean } from "./load_plan.ts";
 * delayMean({ dist: "normal", meanMs: 10, sdMs: 5 }); // 10
 * ```
 */
export function delayMean(spec: DelaySpec): number {
  return spec.dist === "const" ? spec.ms : spec.meanMs;
}

/**
 * One client's share of a total open-loop rate.
 *
 * @example
 * ```ts
 * import { type RateShare, splitRate } from "./load_plan.ts";
 * const share: RateShare = splitRate(500, 10, 0); // 50 per second each
 * ```
 */
export interface RateShare {
  /** Messages per second of this client. */
  perSecond: number;
  /** Time between this client's messages. */
  intervalMs: number;
  /** Offset of its first message after "go": clients are staggered evenly. */
  phaseMs: number;
}

/**
 * Splits `total` messages/s evenly over `clients`: each sends
 * `total / clients` per second, client `i` offset by `i / total` seconds, so
 * the merged stream is evenly spaced at `1000 / total` ms.
 *
 * @example
 * ```ts
 * import { splitRate } from "./load_plan.ts";
 * splitRate(1000, 10, 3); // { perSecond: 100, intervalMs: 10, phaseMs: 3 }
 * ```
 */
export function splitRate(total: number, clients: number, index: number): RateShare {
  const perSecond = total / clients;
  const intervalMs = 1000 / perSecond;
  return { perSecond, intervalMs, phaseMs: (index * 1000) / total };
}

/**
 * When an open-loop client sends: offset of its first message after "go",
 * then the gap before each next one. Null for the closed loop (`window`),
 * which is paced by acks instead.
 *
 * @example
 * ```ts
 * import { sendSchedule } from "./load_plan.ts";
 * import { streamRng } from "./seeded_rng.ts";
 * const s = sendSchedule({ kind: "rate", perSecond: 100 }, 0, 10, streamRng("x", 0, "timing"));
 * s?.nextGapMs(); // 100
 * ```
 */
export interface Schedule {
  firstMs: number;
  nextGapMs: () => number;
}

/**
 * The send schedule of client `index` under `model`.
 *
 * @example
 * ```ts
 * import { sendSchedule } from "./load_plan.ts";
 * import { streamRng } from "./seeded_rng.ts";
 * const s = sendSchedule({ kind: "rate", perSecond: 100 }, 0, 10, streamRng("s", 0, "timing"));
 * s!.nextGapMs(); // 100
 * ```
 */
export function sendSchedule(
  model: SendModel,
  index: number,
  clients: number,
  rng: Rng,
): Schedule | null {
  switch (model.kind) {
    case "window":
      return null;
    case "rate": {
      const r = splitRate(model.perSecond, clients, index);
      return { firstMs: r.phaseMs, nextGapMs: () => r.intervalMs };
    }
    case "delay": {
      const sample = delaySampler(model.delay, rng);
      // Spread the first messages over one mean gap so clients do not start in lockstep.
      const firstMs = model.delay.dist === "exp" ? sample() : rng() * delayMean(model.delay);
      return { firstMs, nextGapMs: sample };
    }
  }
}

/**
 * The client indices worker `w` (of `workers`) runs: round-robin, so sizes differ by at most one.
 *
 * @example
 * ```ts
 * import { clientsOfWorker } from "./load_plan.ts";
 * clientsOfWorker(1, 3, 7); // [1, 4]
 * ```
 */
export function clientsOfWorker(w: number, workers: number, clients: number): number[] {
  const out: number[] = [];
  for (let i = w; i < clients; i += workers) out.push(i);
  return out;
}

/**
 * Fraction of the planned load after which `--kill-one` kills a server: a
 * quarter, so the kill happens under load and leaves three quarters to
 * observe recovery.
 *
 * @example
 * ```ts
 * import { KILL_AT_FRACTION } from "./load_plan.ts";
 * const killAfter = 1000 * KILL_AT_FRACTION; // of 1,000 messages: after 250
 * ```
 */
export const KILL_AT_FRACTION = 0.25;
