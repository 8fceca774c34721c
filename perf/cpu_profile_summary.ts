/**
 * Self time by function and by module from V8 CPU profiles (`.cpuprofile`,
 * as `deno task perf -- --cpu-prof` writes them into `RUN/profiles/`),
 * over one phase of the run only (`processes.csv` gives its start and end).
 * The profiles of every process of a role (the servers) are summed, so the
 * servers of one run read as one.
 *
 * ```sh
 * deno run -A perf/cpu_profile_summary.ts --phase messaging --role server --top 30 RUN
 * ```
 *
 * @example
 * ```ts
 * import { summarizeProfiles } from "./cpu_profile_summary.ts";
 * const s = summarizeProfiles([{
 *   nodes: [{ id: 1, callFrame: { functionName: "(root)", url: "" } }],
 *   startTime: 0, endTime: 1000, samples: [1], timeDeltas: [1000],
 * }], {});
 * console.log(s.totalMs); // 1
 * ```
 * @module
 */

/** The parts of a V8 `.cpuprofile` this summary reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber?: number } }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * Self time (ms) per function and per module, and the total of the samples counted.
 *
 * @example
 * ```ts
 * import type { ProfileSummary } from "./cpu_profile_summary.ts";
 * const s: ProfileSummary = {
 *   totalMs: 0,
 *   idleMs: 0,
 *   byFunction: new Map(),
 *   byModule: new Map(),
 *   byPart: new Map(),
 * };
 * ```
 */
export interface ProfileSummary {
  /** Non-idle time counted. */
  totalMs: number;
  /** `(idle)` time inside the window. */
  idleMs: number;
  byFunction: Map<string, number>;
  byModule: Map<string, number>;
  /** By part of the program ({@link partOf}): what of a load worker's time is the load generator's own. */
  byPart: Map<string, number>;
}

const IDLE = new Set(["(idle)", "(program)"]);

function moduleOf(url: string, fn: string): string {
  if (!url) return fn.startsWith("(") ? fn : "(native)";
  const m = url.match(/\/(server|lib|client|perf|db|lb|testing)\/(?:[a-z_]+\/)?[^/]+$/) ??
    url.match(/node_modules\/(?:\.deno\/)?([^/]+)/) ?? url.match(/ext:[^/]+\/[^/]+|node:[a-z_]+/);
  return m ? (m[0].startsWith("node_modules") ? m[1] : m[0].replace(/^\//, "")) : url;
}

/**
 * The part of the program module `mod` ({@link ProfileSummary.byModule}'s
 * keys) belongs to: a FastChat folder (`perf/` is the load generator itself,
 * not the client it drives), `(garbage collector)`, the runtime (Deno's ops
 * and its built-in modules) or a dependency (npm packages, WebAssembly).
 *
 * @example
 * ```ts
 * import { partOf } from "./cpu_profile_summary.ts";
 * partOf("perf/client_log.ts"); // "perf/ (the load generator)"
 * partOf("lib/crypto/aead.ts"); // "lib/"
 * partOf("ext:deno_net/01_net.js"); // "runtime (Deno, node: modules, ops)"
 * ```
 */
export function partOf(mod: string): string {
  const folder = mod.match(/^(server|lib|client|perf|db|lb|testing)\//)?.[1];
  if (folder === "perf") return "perf/ (the load generator)";
  if (folder) return `${folder}/`;
  if (mod === "(garbage collector)") return mod;
  if (mod === "(native)" || mod.startsWith("ext:") || mod.startsWith("node:")) {
    return "runtime (Deno, node: modules, ops)";
  }
  return "dependencies (npm, wasm)";
}

/** Sample times (V8's monotonic clock, µs) of `p`. */
function sampleTimes(p: CpuProfile): number[] {
  const t: number[] = new Array(p.samples.length);
  let at = p.startTime;
  for (let i = 0; i < p.samples.length; i++) t[i] = at += p.timeDeltas[i];
  return t;
}

/**
 * Sums self time over `profiles`, only of samples whose time (V8's
 * monotonic clock, µs) lies in `window` if given.
 *
 * @example
 * ```ts
 * import { type CpuProfile, summarizeProfiles } from "./cpu_profile_summary.ts";
 * declare const profiles: CpuProfile[];
 * const s = summarizeProfiles(profiles, { window: [360e6, 366e6] });
 * console.log([...s.byModule].sort((a, b) => b[1] - a[1]).slice(0, 10));
 * ```
 */
export function summarizeProfiles(
  profiles: CpuProfile[],
  o: { window?: [fromUs: number, toUs: number] },
): ProfileSummary {
  const out: ProfileSummary = {
    totalMs: 0,
    idleMs: 0,
    byFunction: new Map(),
    byModule: new Map(),
    byPart: new Map(),
  };
  for (const p of profiles) {
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const idle = new Set(
      p.nodes.filter((n) => IDLE.has(n.callFrame.functionName)).map((n) => n.id),
    );
    const t = sampleTimes(p);
    const [from, to] = o.window ?? [-Infinity, Infinity];
    for (let i = 0; i < p.samples.length; i++) {
      if (t[i] < from || t[i] > to) continue;
      const ms = (p.timeDeltas[i + 1] ?? 0) / 1000;
      if (idle.has(p.samples[i])) {
        out.idleMs += ms;
        continue;
      }
      const f = byId.get(p.samples[i])!.callFrame;
      const mod = moduleOf(f.url, f.functionName);
      const key = `${f.functionName || "(anonymous)"} ${mod}:${(f.lineNumber ?? 0) + 1}`;
      out.totalMs += ms;
      out.byFunction.set(key, (out.byFunction.get(key) ?? 0) + ms);
      out.byModule.set(mod, (out.byModule.get(mod) ?? 0) + ms);
    }
  }
  for (const [mod, ms] of out.byModule) {
    const part = partOf(mod);
    out.byPart.set(part, (out.byPart.get(part) ?? 0) + ms);
  }
  return out;
}

/**
 * The top `n` rows of a summary map as aligned text lines (ms and share of the total).
 *
 * @example
 * ```ts
 * import { topLines } from "./cpu_profile_summary.ts";
 * console.log(topLines(new Map([["f", 3], ["g", 1]]), 4, 1).join("\n")); // f 3.0 ms 75.0 %
 * ```
 */
export function topLines(m: Map<string, number>, total: number, n: number): string[] {
  return [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, ms]) =>
    `${ms.toFixed(1).padStart(9)} ms ${(100 * ms / total).toFixed(1).padStart(5)} %  ${k}`
  );
}

/**
 * The [from, to] epoch ms of `phase` in a run's `processes.csv` (its first
 * sample, and the first sample of the phase after it).
 *
 * @example
 * ```ts
 * import { phaseBounds } from "./cpu_profile_summary.ts";
 * const csv = "t_ms,phase,role,name,pid,start_ms,cpu_ms,rss_bytes\n1,warmup,server,srv-1,9,0,0,0\n" +
 *   "5,messaging,server,srv-1,9,0,0,0\n7,messaging,server,srv-1,9,0,0,0\n9,after,server,srv-1,9,0,0,0";
 * console.log(phaseBounds(csv, "messaging")); // [5, 9]
 * ```
 */
export function phaseBounds(processesCsv: string, phase: string): [number, number] | null {
  let from = NaN, to = NaN;
  for (const line of processesCsv.split("\n").slice(1)) {
    const [t, ph] = line.split(",", 2);
    if (ph === phase && Number.isNaN(from)) from = Number(t);
    else if (ph !== phase && !Number.isNaN(from) && Number.isNaN(to) && ph) to = Number(t);
  }
  return Number.isNaN(from) || Number.isNaN(to) ? null : [from, to];
}

/** Names of the processes of `role` in a run's `processes.csv`. */
function namesOf(processesCsv: string, role: string): string[] {
  const names = new Set<string>();
  for (const line of processesCsv.split("\n").slice(1)) {
    const f = line.split(",");
    if (f[2] === role) names.add(f[3]);
  }
  return [...names].sort();
}

/** Epoch ms at which V8's monotonic clock (CLOCK_MONOTONIC, ≈ /proc/uptime) was 0. */
function bootEpochMs(): number {
  const uptimeS = Number(Deno.readTextFileSync("/proc/uptime").split(" ")[0]);
  return Date.now() - uptimeS * 1000;
}

if (import.meta.main) {
  const args = [...Deno.args];
  const take = (flag: string) => {
    const i = args.indexOf(flag);
    return i < 0 ? undefined : args.splice(i, 2)[1];
  };
  const phase = take("--phase") ?? "messaging";
  const role = take("--role") ?? "server";
  const top = Number(take("--top") ?? 30);
  if (args.length !== 1 || args.includes("--help")) {
    console.log(
      "Usage: deno run -A perf/cpu_profile_summary.ts [--phase messaging] [--role server] [--top 30] RUN_DIR\n" +
        "Self time by module and function of RUN_DIR/profiles/<process>.cpuprofile (perf --cpu-prof)\n" +
        "of every process of the role, summed, over the phase only (same machine, no reboot since).",
    );
    Deno.exit(args.includes("--help") ? 0 : 1);
  }
  const dir = args[0];
  const csv = Deno.readTextFileSync(`${dir}/processes.csv`);
  const bounds = phaseBounds(csv, phase);
  const boot = bootEpochMs();
  const window = bounds
    ? [(bounds[0] - boot) * 1000, (bounds[1] - boot) * 1000] as [number, number]
    : undefined;
  const names = namesOf(csv, role);
  const profiles = names.map((n) =>
    JSON.parse(Deno.readTextFileSync(`${dir}/profiles/${n}.cpuprofile`)) as CpuProfile
  );
  const s = summarizeProfiles(profiles, { window });
  console.log(
    `${names.join(" ")}, ${bounds ? `phase ${phase} ${bounds[1] - bounds[0]} ms` : "whole run"}: ` +
      `non-idle ${s.totalMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms`,
  );
  console.log("\nby part:");
  console.log(topLines(s.byPart, s.totalMs, top).join("\n"));
  console.log("\nby module:");
  console.log(topLines(s.byModule, s.totalMs, top).join("\n"));
  console.log("\nby function:");
  console.log(topLines(s.byFunction, s.totalMs, top).join("\n"));
}
