/**
 * `deno task fuzz -- [--inputs N] [--seed S] [--only NAME]`: feeds N inputs
 * (default 1,000,000) to every decoder of network bytes (see
 * {@link DECODER_TARGETS}) and prints, per decoder, the inputs it accepted,
 * the ones it refused with its typed error, the crashes (anything else it
 * threw) and the slowest input. Exits 1 on any crash.
 *
 * Inputs are the structured MessagePack bombs, random bytes, and mutations
 * of valid encodings: bit flips, byte changes, truncation, length fields
 * rewritten to boundary values, lying headers spliced in, and splices of
 * two encodings. A run is reproducible from its seed.
 *
 * @example
 * ```ts
 * import { DECODER_TARGETS } from "./fuzz_targets.ts";
 * import { fuzzDecoder } from "./fuzz.ts";
 * console.log(fuzzDecoder(DECODER_TARGETS[0], { inputs: 1000, seed: 1 }).crashCount); // 0
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { msgpackBombs } from "@fastchat/lib/msgpack_bombs";
import { mulberry32 } from "@fastchat/perf/seeded_rng";
import { DECODER_TARGETS, type DecoderTarget } from "./fuzz_targets.ts";

/**
 * What one decoder did with its inputs.
 *
 * @example
 * ```ts
 * import { DECODER_TARGETS } from "./fuzz_targets.ts";
 * import { type FuzzReport, fuzzDecoder } from "./fuzz.ts";
 * const r: FuzzReport = fuzzDecoder(DECODER_TARGETS[1], { inputs: 10, seed: 2 });
 * ```
 */
export interface FuzzReport {
  name: string;
  inputs: number;
  accepted: number;
  refused: number;
  /** Inputs that raised anything but the decoder's typed error (first 10 kept). */
  crashes: { input: Uint8Array; error: string }[];
  crashCount: number;
  /**
   * The slowest input: its median time over {@link RETIMES} re-runs (a
   * single run's time is mostly garbage collection and the neighbours on a
   * busy machine), in milliseconds, and its size.
   */
  slowestMs: number;
  slowestBytes: number;
  /** The largest input fed, in bytes. */
  maxBytes: number;
}

/** Headers that lie about what follows (MessagePack, frame and wire lengths). */
const LIARS = [
  [0xdd, 0xff, 0xff, 0xff, 0xff],
  [0xdd, 0x01, 0xff, 0xff, 0xff],
  [0xdf, 0x7f, 0xff, 0xff, 0xff],
  [0xdb, 0xff, 0xff, 0xff, 0xff],
  [0xc6, 0x7f, 0xff, 0xff, 0xff],
  [0xdc, 0xff, 0xff],
  [0xde, 0xff, 0xff],
  [0x9f],
  [0x8f],
  [0xc9, 0x7f, 0xff, 0xff, 0xff, 0x01],
  [0xd4, 0x72, 0x00],
  [0xff, 0xff, 0xff, 0xff],
  [0x7f, 0xff, 0xff, 0xf0],
];

/** Boundary values written over a length field (1, 2 or 4 bytes, big-endian). */
const BOUNDARIES = [
  0,
  1,
  2,
  0x7f,
  0x80,
  0xff,
  0x100,
  0x7fff,
  0xffff,
  0x01ffffff,
  0x7fffffff,
  0xffffffff,
];

/**
 * The next input for `t`: a bomb, random bytes, or a mutation of a sample.
 *
 * @example
 * ```ts
 * import { DECODER_TARGETS } from "./fuzz_targets.ts";
 * import { mulberry32 } from "@fastchat/perf/seeded_rng";
 * import { makeInput } from "./fuzz.ts";
 * const input = makeInput(DECODER_TARGETS[0], mulberry32(1), []);
 * ```
 */
export function makeInput(t: DecoderTarget, rnd: () => number, bombs: Uint8Array[]): Uint8Array {
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: T[]): T => xs[int(xs.length)];
  const r = rnd();
  if (r < 0.03 && bombs.length > 0) return pick(bombs);
  if (r < 0.15) {
    const out = new Uint8Array(int(160));
    for (let k = 0; k < out.length; k++) out[k] = int(256);
    return out;
  }
  const base = pick(t.samples);
  if (r < 0.27) return base.subarray(0, int(base.length)); // truncation
  const out = Uint8Array.from(base);
  if (r < 0.5) { // bit flips and byte changes
    const n = 1 + int(4);
    for (let k = 0; k < n && out.length > 0; k++) {
      const at = int(out.length);
      out[at] = rnd() < 0.5 ? int(256) : out[at] ^ (1 << int(8));
    }
    return out;
  }
  if (r < 0.7) { // a length field rewritten to a boundary value
    const width = pick([1, 2, 4]);
    const at = int(Math.max(1, out.length - width + 1));
    let v = pick(BOUNDARIES);
    if (rnd() < 0.3) v = Math.max(0, out.length - at + int(5) - 2);
    for (let k = width - 1; k >= 0 && at + k < out.length; k--, v = Math.floor(v / 256)) {
      out[at + k] = v & 0xff;
    }
    return out;
  }
  if (r < 0.85) { // a lying header spliced in: inserted, or ending the input
    const liar = pick(LIARS);
    const at = int(out.length + 1);
    return rnd() < 0.5
      ? new Uint8Array([...out.subarray(0, at), ...liar, ...out.subarray(at)])
      : new Uint8Array([...out.subarray(0, at), ...liar]);
  }
  const other = pick(t.samples); // the head of one encoding, the tail of another
  return new Uint8Array([
    ...out.subarray(0, int(out.length)),
    ...other.subarray(int(other.length)),
  ]);
}

/**
 * Feeds `inputs` generated inputs to `target` and reports what happened.
 *
 * @example
 * ```ts
 * import { DECODER_TARGETS } from "./fuzz_targets.ts";
 * import { fuzzDecoder } from "./fuzz.ts";
 * for (const t of DECODER_TARGETS) console.log(fuzzDecoder(t, { inputs: 100, seed: 7 }).name);
 * ```
 */
export function fuzzDecoder(
  target: DecoderTarget,
  opts: { inputs: number; seed: number },
): FuzzReport {
  const rnd = mulberry32(opts.seed);
  const bombs = [...msgpackBombs().values()];
  const report: FuzzReport = {
    name: target.name,
    inputs: 0,
    accepted: 0,
    refused: 0,
    crashes: [],
    crashCount: 0,
    slowestMs: 0,
    slowestBytes: 0,
    maxBytes: 0,
  };
  const slow: { ms: number; input: Uint8Array }[] = [];
  for (let i = 0; i < opts.inputs; i++) {
    const input = makeInput(target, rnd, bombs);
    const t0 = performance.now();
    try {
      target.decode(input);
      report.accepted++;
    } catch (e) {
      if (target.typed(e)) report.refused++;
      else {
        report.crashCount++;
        if (report.crashes.length < 10) report.crashes.push({ input, error: String(e) });
      }
    }
    const ms = performance.now() - t0;
    if (slow.length < SLOW_KEPT || ms > slow[slow.length - 1].ms) {
      slow.push({ ms, input });
      slow.sort((a, b) => b.ms - a.ms);
      if (slow.length > SLOW_KEPT) slow.pop();
    }
    if (input.length > report.maxBytes) report.maxBytes = input.length;
    report.inputs++;
  }
  for (const { input } of slow) {
    const ms = medianTime(() => {
      try {
        target.decode(input);
      } catch (e) {
        // The outcome was counted in the first pass; only the time matters here.
        if (!target.typed(e) && report.crashCount === 0) throw e;
      }
    });
    if (ms > report.slowestMs) {
      report.slowestMs = ms;
      report.slowestBytes = input.length;
    }
  }
  return report;
}

/** How many of the slowest first-pass inputs are re-timed. */
const SLOW_KEPT = 16;
/** Re-runs of each slow input; the median is its time. */
export const RETIMES = 21;

function medianTime(run: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < RETIMES; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[RETIMES >> 1];
}

/**
 * The reports as a Markdown table.
 *
 * @example
 * ```ts
 * import { fuzzTable } from "./fuzz.ts";
 * console.log(fuzzTable([]).startsWith("| decoder")); // true
 * ```
 */
export function fuzzTable(reports: FuzzReport[]): string {
  const rows = reports.map((r) =>
    `| ${r.name} | ${r.inputs} | ${r.refused} | ${r.accepted} | ${r.crashCount} | ` +
    `${(r.slowestMs * 1000).toFixed(1)} µs (${r.slowestBytes} B) | ${r.maxBytes} B |`
  );
  return [
    "| decoder | inputs | typed errors | successes | crashes | slowest input (median of re-runs) | largest input |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args,
    options: {
      inputs: { type: "string", default: "1000000" },
      seed: { type: "string", default: "1" },
      only: { type: "string" },
    },
  });
  const inputs = Number(values.inputs);
  const seed = Number(values.seed);
  if (!Number.isInteger(inputs) || inputs < 1 || !Number.isInteger(seed)) {
    console.error("fuzz: --inputs must be a positive integer, --seed an integer");
    Deno.exit(2);
  }
  const targets = DECODER_TARGETS.filter((t) => !values.only || t.name === values.only);
  if (targets.length === 0) {
    console.error(
      `fuzz: no decoder named ${values.only}; one of: ` +
        DECODER_TARGETS.map((t) => t.name).join(", "),
    );
    Deno.exit(2);
  }
  const reports: FuzzReport[] = [];
  const t0 = performance.now();
  for (const target of targets) {
    const t = performance.now();
    const r = fuzzDecoder(target, { inputs, seed });
    reports.push(r);
    console.error(
      `${target.name}: ${inputs} inputs in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    for (const c of r.crashes) {
      console.error(`  crash: ${c.error} on ${JSON.stringify([...c.input.subarray(0, 64)])}`);
    }
  }
  console.log(fuzzTable(reports));
  console.log(`\n${((performance.now() - t0) / 1000).toFixed(1)} s in all (seed ${seed})`);
  if (reports.some((r) => r.crashCount > 0)) Deno.exit(1);
}
