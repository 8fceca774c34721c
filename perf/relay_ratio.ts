/**
 * `deno task perf:relay -- --bench ../shared/bench [--pairs 3] [--out DIR] [perf flags]`
 *
 * FastChat's DM throughput as a share of the bare relay's (`relay_baseline.ts`),
 * both measured in the same sitting: `--pairs` times, the relay's `load.ts`
 * and then one `deno task perf` run (each with its own cluster and run
 * directory `<out>/pair-<k>`), alternating, so that a change in the shared
 * machine's speed hits both alike. Prints each pair and the median share;
 * writes `<out>/relay_ratio.json`.
 *
 * Without perf flags, the run of the issue's goal: `--clients 100 --messages
 * 1000 --servers 2 --window 64` (plus cheap registration:
 * `--kdf-iterations 100000 --scrypt-n 1024 --identity-pool 16`), against
 * `load.ts 100 5000 100 64`. The relay's clients, frame size and window
 * follow the perf flags (`--clients`, `--payload` in bytes, `--window`).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import type { HostStalls } from "./host_stalls.ts";
import { FastChatError } from "@fastchat/lib/errors";
import { invalidFlag as invalid, wrapperFlags } from "./flag_values.ts";
import { parseRunArgs } from "./run_config.ts";
import { type RelayLoad, type RelayResult, runRelayBaseline } from "./relay_baseline.ts";
import { percentile } from "./percentiles.ts";
import { runStamp } from "./clock.ts";
import { runPerfChild } from "./perf_child.ts";

const here = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));

/**
 * Goal 3's run, the default of `perf:relay` and `perf:ab`.
 *
 * @example
 * ```ts
 * import { DEFAULT_PERF } from "./relay_ratio.ts";
 * DEFAULT_PERF.includes("--window"); // true
 * ```
 */
export const DEFAULT_PERF = (
  "--clients 100 --messages 1000 --servers 2 --window 64 " +
  "--kdf-iterations 100000 --scrypt-n 1024 --identity-pool 16"
).split(" ");

const HELP = `Usage: deno task perf:relay -- --bench DIR [--pairs N] [--relay-frames F] [--out DIR]
                              [any deno task perf flag]
Measures the bare relay of DIR (relay.ts + load.ts, e.g. ../shared/bench) and a deno task perf
run alternately, N times (default 3), and prints FastChat's msgs/s as a share of the relay's.
Default perf flags: ${
  DEFAULT_PERF.join(" ")
}; the relay gets load.ts <clients> <F, default 5000> <payload bytes> <window>.`;

/** The command line of {@link runRelayRatio}, parsed. */
export interface RelayRatioArgs {
  bench: string;
  pairs: number;
  out: string | null;
  relay: RelayLoad;
  /** Flags of each perf run. */
  perf: string[];
}

/**
 * Parses `deno task perf:relay` flags; the perf flags are checked as perf would.
 *
 * @example
 * ```ts
 * import { parseRelayRatioArgs } from "./relay_ratio.ts";
 * parseRelayRatioArgs(["--bench", "../shared/bench"]).relay; // { clients: 100, frames: 5000, bytes: 100, window: 64 }
 * ```
 */
export function parseRelayRatioArgs(args: string[]): RelayRatioArgs {
  const { take, rest: a } = wrapperFlags(args);
  const bench = take("--bench");
  if (!bench) throw invalid("--bench DIR is required (the directory of relay.ts and load.ts)");
  const count = (flag: string, dflt: number) => {
    const v = take(flag);
    const n = v === undefined ? dflt : Number(v);
    if (!(Number.isInteger(n) && n >= 1 && n <= 1_000_000)) {
      throw invalid(`${flag}: bad count ${v}`);
    }
    return n;
  };
  const pairs = count("--pairs", 3);
  const frames = count("--relay-frames", 5000);
  const out = take("--out") ?? null;
  const perf = a.length > 0 ? a : DEFAULT_PERF;
  const cfg = parseRunArgs([...perf, "--out", "x"]);
  if (cfg.mode !== "dm" || cfg.idle || cfg.lb !== null || cfg.send.kind !== "window") {
    throw invalid("perf:relay compares closed-loop DM runs of a cluster perf starts (--window)");
  }
  const relay = { clients: cfg.clients, frames, bytes: cfg.payloadBytes, window: cfg.send.window };
  return { bench, pairs, out, relay, perf };
}

/** One relay run and the perf run after it. */
export interface RelayPair {
  relay: RelayResult;
  dir: string;
  fastchatMsgsPerSec: number;
  /** FastChat's msgs/s ÷ the relay's. */
  share: number;
  /** The perf run's host check: how steady the host was in this pair. */
  hostStalls: HostStalls | null;
}

/**
 * Runs the pairs; resolves with the exit code (0 ok, 1 a run failed, 2 bad flags).
 *
 * @example
 * ```ts
 * import { runRelayRatio } from "./relay_ratio.ts";
 * Deno.exit(await runRelayRatio(["--bench", "../shared/bench", "--pairs", "3"]));
 * ```
 */
export async function runRelayRatio(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  let o: RelayRatioArgs;
  try {
    o = parseRelayRatioArgs(args);
  } catch (e) {
    console.error(`perf:relay: ${FastChatError.from(e).message}`);
    return 2;
  }
  const dir = o.out ?? here(`./out/${runStamp(new Date())}-relay`);
  await Deno.mkdir(dir, { recursive: true });
  const pairs: RelayPair[] = [];
  const r = o.relay;
  try {
    for (let k = 1; k <= o.pairs; k++) {
      const relay = await runRelayBaseline(o.bench, r);
      console.error(`perf:relay: [${k}/${o.pairs}] relay ${Math.round(relay.msgsPerSec)} frames/s`);
      const runDir = `${dir}/pair-${k}`;
      const run = await runPerfChild(o.perf, runDir);
      const fastchatMsgsPerSec = run.msgsPerSec;
      const share = fastchatMsgsPerSec / relay.msgsPerSec;
      pairs.push({ relay, dir: runDir, fastchatMsgsPerSec, share, hostStalls: run.hostStalls });
      console.error(
        `perf:relay: [${k}/${o.pairs}] FastChat ${Math.round(fastchatMsgsPerSec)} msgs/s: ` +
          `${(100 * share).toFixed(1)} % of the relay`,
      );
    }
  } catch (e) {
    console.error(`perf:relay: ${FastChatError.from(e).message}`);
    return 1;
  }
  const shares = pairs.map((p) => p.share);
  const summary = {
    relayLoad: `load.ts ${r.clients} ${r.frames} ${r.bytes} ${r.window}`,
    perf: o.perf,
    pairs,
    medianShare: percentile(shares, 0.5),
    medianRelayMsgsPerSec: percentile(pairs.map((p) => p.relay.msgsPerSec), 0.5),
    medianFastchatMsgsPerSec: percentile(pairs.map((p) => p.fastchatMsgsPerSec), 0.5),
  };
  await Deno.writeTextFile(`${dir}/relay_ratio.json`, JSON.stringify(summary, null, 2) + "\n");
  console.log(`relay (${summary.relayLoad}) against deno task perf -- ${o.perf.join(" ")}`);
  console.log("pair  relay frames/s  FastChat msgs/s  share    host stalls > 2 ms, longest");
  for (const [i, p] of pairs.entries()) {
    const h = p.hostStalls;
    console.log(
      `${String(i + 1).padStart(4)}  ${Math.round(p.relay.msgsPerSec).toString().padStart(14)}  ` +
        `${Math.round(p.fastchatMsgsPerSec).toString().padStart(15)}  ${
          (100 * p.share).toFixed(1).padStart(5)
        } %  ${
          h ? `${String(h.over2Ms).padStart(17)}, ${h.longestMs.toFixed(1)} ms` : "—".padStart(17)
        }`,
    );
  }
  console.log(
    `median share ${(100 * summary.medianShare).toFixed(1)} %  (${dir}/relay_ratio.json)`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await runRelayRatio(Deno.args));
