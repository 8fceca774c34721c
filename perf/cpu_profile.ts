/**
 * Self time of a V8 CPU profile (`.cpuprofile`, as `perf --cpu-prof`
 * writes one per process into `<run>/profiles/`) summed by function and by
 * module, optionally over a time window only: a load worker's profile is
 * mostly set-up (registration, key warm-up), so `--run DIR` keeps the
 * samples of the run's messaging phase, located from the end of the
 * profile (the process wrote it when it exited, which `processes.csv`
 * records as its last sample).
 *
 * `deno run -A perf/cpu_profile.ts FILE.cpuprofile [--run DIR] [--top N]`
 * prints the top N (default 30) functions and modules by self time.
 *
 * @example
 * ```ts
 * import { summarizeProfile } from "./cpu_profile.ts";
 * const profile = {
 *   nodes: [
 *     { id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1 } },
 *     { id: 2, callFrame: { functionName: "seal", url: "file:///a.ts", lineNumber: 9 } },
 *   ],
 *   startTime: 0, endTime: 300, samples: [2, 2, 1], timeDeltas: [100, 100, 100],
 * };
 * summarizeProfile(profile).functions[0].name; // "seal a.ts:10"
 * ```
 * @module
 */

/** A V8 CPU profile (the parts read here). */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  /** µs, V8's monotonic clock. */
  startTime: number;
  endTime: number;
  /** Node id of each sample. */
  samples: number[];
  /** µs since the previous sample (the first: since `startTime`). */
  timeDeltas: number[];
}

/** One row of a summary: a name and its self time. */
export interface SelfTime {
  name: string;
  /** Self time, µs. */
  us: number;
}

/** Self time by function and by module, over the samples kept. */
export interface ProfileSummary {
  /** Total µs of the samples kept, `(idle)` and `(program)` included. */
  totalUs: number;
  /** µs outside `(idle)`: the CPU the thread used. */
  busyUs: number;
  functions: SelfTime[];
  modules: SelfTime[];
}

function shortUrl(url: string): string {
  if (url === "") return "(native)";
  const m = url.match(/node_modules\/\.deno\/([^/]+)\//) ?? url.match(/\/(ext:[^]*|node:[^]*)$/);
  if (m) return m[1];
  const parts = url.split("/");
  return parts.slice(-2).join("/").replace(/^wt\/|^client\/client\//, "");
}

function medianInterval(deltas: number[]): number {
  const s = deltas.slice(1).sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[s.length >> 1];
}

function sorted(m: Map<string, number>): SelfTime[] {
  return [...m].map(([name, us]) => ({ name, us })).sort((a, b) => b.us - a.us);
}

/**
 * Sums self time by function (`name file:line`) and by module. With
 * `window` (µs before the profile's end: `[from, to]`, from > to), only
 * samples in it count. Each sample counts as the median sampling interval:
 * the delta to the next sample is sometimes 100 ms when the sampler thread
 * did not get a core (2 busy cores), and would give that one stack 100 ms.
 *
 * @example
 * ```ts
 * import { summarizeProfile } from "./cpu_profile.ts";
 * declare const p: import("./cpu_profile.ts").CpuProfile;
 * summarizeProfile(p, [2_000_000, 100_000]).busyUs; // the last 2 s but 0.1
 * ```
 */
export function summarizeProfile(p: CpuProfile, window?: [number, number]): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const fns = new Map<string, number>();
  const mods = new Map<string, number>();
  let t = p.startTime;
  let total = 0;
  let busy = 0;
  const lo = window ? p.endTime - window[0] : -Infinity;
  const hi = window ? p.endTime - window[1] : Infinity;
  const dt = medianInterval(p.timeDeltas);
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i];
    if (t < lo || t > hi) continue;
    const f = byId.get(p.samples[i]);
    if (!f) continue;
    total += dt;
    if (f.functionName === "(idle)") continue;
    busy += dt;
    const mod = shortUrl(f.url);
    const fn = f.url === ""
      ? f.functionName
      : `${f.functionName || "(anonymous)"} ${mod}:${f.lineNumber + 1}`;
    fns.set(fn, (fns.get(fn) ?? 0) + dt);
    mods.set(mod, (mods.get(mod) ?? 0) + dt);
  }
  return { totalUs: total, busyUs: busy, functions: sorted(fns), modules: sorted(mods) };
}

/**
 * The messaging phase of run `runDir` as a window before the end of the
 * profile of process `name`: from its start (and to its end) back to the
 * process's last sample in `processes.csv`, µs.
 *
 * @example
 * ```ts
 * import { messagingWindow } from "./cpu_profile.ts";
 * const w = await messagingWindow("perf/out/RUN", "worker-0"); // e.g. [2_190_000, 145_000]
 * ```
 */
export async function messagingWindow(runDir: string, name: string): Promise<[number, number]> {
  const run = JSON.parse(await Deno.readTextFile(`${runDir}/run.json`));
  const m = run.phases?.messaging;
  if (!m?.startMs || !m?.endMs) throw new Error(`${runDir}: no messaging phase in run.json`);
  let last = 0;
  for (const line of (await Deno.readTextFile(`${runDir}/processes.csv`)).split("\n")) {
    const cols = line.split(",");
    if (cols[3] === name) last = Math.max(last, Number(cols[0]));
  }
  if (last === 0) throw new Error(`${runDir}: ${name} is not in processes.csv`);
  return [(last - m.startMs) * 1000, Math.max(0, (last - m.endMs) * 1000)];
}

function table(rows: SelfTime[], busyUs: number, top: number): string {
  return rows.slice(0, top).map((r) =>
    `${(r.us / 1000).toFixed(1).padStart(9)} ms ${
      (100 * r.us / busyUs).toFixed(1).padStart(5)
    } %  ${r.name}`
  ).join("\n");
}

if (import.meta.main) {
  const args = [...Deno.args];
  const opt = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i < 0 ? undefined : args.splice(i, 2)[1];
  };
  const runDir = opt("--run");
  const top = Number(opt("--top") ?? 30);
  const file = args[0];
  if (!file) {
    console.error("usage: perf/cpu_profile.ts FILE.cpuprofile [--run RUN_DIR] [--top N]");
    Deno.exit(2);
  }
  const name = file.split("/").pop()!.replace(/\.cpuprofile$/, "");
  const window = runDir ? await messagingWindow(runDir, name) : undefined;
  const s = summarizeProfile(JSON.parse(await Deno.readTextFile(file)), window);
  console.log(
    `${file}: ${(s.busyUs / 1000).toFixed(0)} ms busy of ${(s.totalUs / 1000).toFixed(0)} ms` +
      (window ? ` (messaging phase)` : ""),
  );
  console.log(`\nby function (self time, % of busy)\n${table(s.functions, s.busyUs, top)}`);
  console.log(`\nby module\n${table(s.modules, s.busyUs, top)}`);
}
