/**
 * Sums sampling heap profiles (`.heapprofile`, as `deno task perf --
 * --heap-sample` writes one per load worker into `RUN/profiles/`): bytes
 * allocated by function, and by the nearest function of this project on
 * the stack (so that what `node:crypto`, msgpackr or the runtime allocate
 * is charged to the FastChat code that asked for it), and per message.
 *
 * ```sh
 * deno run -A perf/heap_profile.ts RUN_DIR [--top 30]     # the run's workers, per message
 * deno run -A perf/heap_profile.ts FILE.heapprofile…       # any profiles
 * ```
 *
 * @example
 * ```ts
 * import { summarizeHeapProfiles } from "./heap_profile.ts";
 * const s = summarizeHeapProfiles([{
 *   head: {
 *     id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1 }, selfSize: 0,
 *     children: [{
 *       id: 2, callFrame: { functionName: "seal", url: "file:///p/lib/aead.ts", lineNumber: 9 },
 *       selfSize: 4096, children: [],
 *     }],
 *   },
 *   samples: [{ size: 4096, nodeId: 2, ordinal: 1 }],
 * }]);
 * console.log(s.totalBytes, s.byProjectFrame[0].name); // 4096 "seal lib/aead.ts:10"
 * ```
 * @module
 */
import type { HeapProfileNode, SamplingHeapProfile } from "./heap_sampler.ts";

/** Bytes charged to one name. */
export interface AllocationRow {
  name: string;
  bytes: number;
}

/** What a set of heap profiles allocated. */
export interface HeapProfileSummary {
  totalBytes: number;
  /** By the function that allocated (runtime and library functions included). */
  byFunction: AllocationRow[];
  /** By the innermost function of this project on the stack (`(runtime)` if none). */
  byProjectFrame: AllocationRow[];
  /** By the module of that function. */
  byProjectModule: AllocationRow[];
}

type Frame = HeapProfileNode["callFrame"];

/** A `file:` URL of this project's code (not a dependency, not the runtime's). */
function isProjectFile(url: string): boolean {
  return url.startsWith("file://") && !url.includes("/node_modules/");
}

/** `lib/crypto/aead.ts` from `file:///…/lib/crypto/aead.ts` (the last two or three parts). */
function projectPath(url: string): string {
  const parts = url.split("/");
  const n = parts.at(-3) === "lib" || parts.at(-3) === "client" ? 3 : 2;
  return parts.slice(-n).join("/");
}

function frameName(f: Frame): string {
  const where = isProjectFile(f.url)
    ? projectPath(f.url)
    : f.url.replace(/^.*node_modules\/(\.deno\/)?/, "").split("/")[0] || "(native)";
  return `${f.functionName || "(anonymous)"} ${where}:${f.lineNumber + 1}`;
}

function rows(m: Map<string, number>): AllocationRow[] {
  return [...m].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

function add(m: Map<string, number>, k: string, n: number): void {
  m.set(k, (m.get(k) ?? 0) + n);
}

/**
 * Sums `profiles`: every sample's bytes go to its function, to the
 * innermost project function on its stack and to that function's module.
 *
 * @example
 * ```ts
 * import { summarizeHeapProfiles } from "./heap_profile.ts";
 * summarizeHeapProfiles([]).totalBytes; // 0
 * ```
 */
export function summarizeHeapProfiles(profiles: SamplingHeapProfile[]): HeapProfileSummary {
  const byFunction = new Map<string, number>();
  const byFrame = new Map<string, number>();
  const byModule = new Map<string, number>();
  let totalBytes = 0;
  for (const p of profiles) {
    const nodes = new Map<number, { node: HeapProfileNode; parent: number | null }>();
    const stack: [HeapProfileNode, number | null][] = [[p.head, null]];
    while (stack.length > 0) {
      const [node, parent] = stack.pop()!;
      nodes.set(node.id, { node, parent });
      for (const c of node.children) stack.push([c, node.id]);
    }
    for (const s of p.samples) {
      const at = nodes.get(s.nodeId);
      if (!at) continue;
      totalBytes += s.size;
      add(byFunction, frameName(at.node.callFrame), s.size);
      let own: Frame | null = null;
      for (let id: number | null = s.nodeId; id !== null && own === null;) {
        const n: { node: HeapProfileNode; parent: number | null } = nodes.get(id)!;
        if (isProjectFile(n.node.callFrame.url)) own = n.node.callFrame;
        id = n.parent;
      }
      add(byFrame, own ? frameName(own) : "(runtime)", s.size);
      add(byModule, own ? projectPath(own.url) : "(runtime)", s.size);
    }
  }
  return {
    totalBytes,
    byFunction: rows(byFunction),
    byProjectFrame: rows(byFrame),
    byProjectModule: rows(byModule),
  };
}

/**
 * What the load workers of one run allocated while they sent, for
 * `deno task analyze`: total, per message received and the largest
 * project frames.
 *
 * @example
 * ```ts
 * import type { HeapAllocation } from "./heap_profile.ts";
 * const h: HeapAllocation = {
 *   profiles: 2, totalBytes: 8e8, bytesPerMessage: 27_000,
 *   top: [{ name: "sealMessage lib/crypto/aead.ts:128", bytes: 1e8 }],
 * };
 * console.log(h.bytesPerMessage);
 * ```
 */
export interface HeapAllocation {
  /** Profiles read (one per load worker). */
  profiles: number;
  totalBytes: number;
  /** `totalBytes` ÷ messages received; null when none was received. */
  bytesPerMessage: number | null;
  /** The largest {@link HeapProfileSummary.byProjectFrame} rows. */
  top: AllocationRow[];
  /**
   * Only what survived a scavenge was sampled (`perf --heap-survivors`,
   * files `*.survivors.heapprofile`); absent or false: every allocation.
   */
  survivors?: boolean;
}

/**
 * The `.heapprofile` files of `<runDir>/profiles/`, sorted by name (none
 * when the directory does not exist).
 *
 * @example
 * ```ts
 * import { runHeapProfileFiles } from "./heap_profile.ts";
 * console.log(await runHeapProfileFiles("/nonexistent")); // []
 * ```
 */
export async function runHeapProfileFiles(runDir: string): Promise<string[]> {
  const files: string[] = [];
  try {
    for await (const e of Deno.readDir(`${runDir}/profiles`)) {
      if (e.isFile && e.name.endsWith(".heapprofile")) files.push(`${runDir}/profiles/${e.name}`);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return files.sort();
}

/**
 * Sums the heap profiles of run `runDir` (`perf --heap-sample`) over
 * `messages` received; null when the run has none.
 *
 * @example
 * ```ts
 * import { readHeapAllocation } from "./heap_profile.ts";
 * console.log(await readHeapAllocation("perf/testdata/clean", 10)); // null: not sampled
 * ```
 */
export async function readHeapAllocation(
  runDir: string,
  messages: number,
  top = 8,
): Promise<HeapAllocation | null> {
  const files = await runHeapProfileFiles(runDir);
  if (files.length === 0) return null;
  const profiles: SamplingHeapProfile[] = await Promise.all(
    files.map(async (f) => JSON.parse(await Deno.readTextFile(f))),
  );
  const s = summarizeHeapProfiles(profiles);
  return {
    profiles: files.length,
    totalBytes: s.totalBytes,
    bytesPerMessage: messages > 0 ? s.totalBytes / messages : null,
    top: s.byProjectFrame.slice(0, top),
    survivors: files.every((f) => f.endsWith(".survivors.heapprofile")),
  };
}

/**
 * Rows of a heap allocation for tables: `[label, value]`, the first the
 * total.
 *
 * @example
 * ```ts
 * import { heapAllocationRows } from "./heap_profile.ts";
 * heapAllocationRows({ profiles: 1, totalBytes: 2e6, bytesPerMessage: 2000, top: [] });
 * // [["allocated (1 profile)", "2.0 MB, 2000 B per message"]]
 * ```
 */
export function heapAllocationRows(h: HeapAllocation): [string, string][] {
  // Profiles without a sample (a run too short to sample) have no shares.
  const share = (bytes: number) => h.totalBytes > 0 ? bytes / h.totalBytes : 0;
  const per = (bytes: number) =>
    h.bytesPerMessage === null
      ? ""
      : `, ${(share(bytes) * h.bytesPerMessage).toFixed(0)} B per message`;
  return [
    [
      `${h.survivors ? "survived a scavenge" : "allocated"} (${h.profiles} profile${
        h.profiles === 1 ? "" : "s"
      })`,
      `${(h.totalBytes / 1e6).toFixed(1)} MB${per(h.totalBytes)}`,
    ],
    ...h.top.map((r): [string, string] => [
      r.name,
      `${(100 * share(r.bytes)).toFixed(1)} %${per(r.bytes)}`,
    ]),
  ];
}

/**
 * What a sampled run's heap profiles hold, in a line.
 *
 * @example
 * ```ts
 * import { heapAllocationTitle } from "./heap_profile.ts";
 * heapAllocationTitle({ profiles: 2, totalBytes: 4e6, bytesPerMessage: 4000, top: [], survivors: true });
 * // "load workers' JS heap that survived a scavenge while sending (--heap-survivors), by nearest project frame"
 * ```
 */
export function heapAllocationTitle(h: HeapAllocation): string {
  return h.survivors
    ? "load workers' JS heap that survived a scavenge while sending (--heap-survivors), by nearest project frame"
    : "load workers' JS heap allocations while sending (--heap-sample), by nearest project frame";
}

/**
 * The text block `deno task analyze` prints for a sampled run.
 *
 * @example
 * ```ts
 * import { formatHeapAllocation } from "./heap_profile.ts";
 * console.log(formatHeapAllocation({ profiles: 2, totalBytes: 4e6, bytesPerMessage: 4000, top: [] }));
 * ```
 */
export function formatHeapAllocation(h: HeapAllocation): string {
  const rows = heapAllocationRows(h);
  const w = Math.max(...rows.map(([k]) => k.length));
  return heapAllocationTitle(h) + "\n" +
    rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join("\n");
}

function table(r: AllocationRow[], total: number, top: number, per: number | null): string {
  return r.slice(0, top).map((x) =>
    `${(x.bytes / 1e6).toFixed(2).padStart(9)} MB ${
      (100 * x.bytes / total).toFixed(1).padStart(5)
    } %` +
    (per ? `  ${(x.bytes / per).toFixed(0).padStart(6)} B/msg` : "") + `  ${x.name}`
  ).join("\n");
}

if (import.meta.main) {
  const args = [...Deno.args];
  const i = args.indexOf("--top");
  const top = i < 0 ? 30 : Number(args.splice(i, 2)[1]);
  if (args.length === 0) {
    console.error("usage: perf/heap_profile.ts RUN_DIR | FILE.heapprofile… [--top N]");
    Deno.exit(2);
  }
  let files = args;
  let messages: number | null = null;
  if (args.length === 1 && (await Deno.stat(args[0])).isDirectory) {
    files = await runHeapProfileFiles(args[0]);
    const run = JSON.parse(await Deno.readTextFile(`${args[0]}/run.json`));
    messages = run.results?.received ?? null;
  }
  const profiles = await Promise.all(
    files.map(async (f) => JSON.parse(await Deno.readTextFile(f))),
  );
  const s = summarizeHeapProfiles(profiles);
  console.log(
    `${files.length} profile(s): ${(s.totalBytes / 1e6).toFixed(1)} MB allocated` +
      (messages ? `, ${(s.totalBytes / messages).toFixed(0)} bytes per message received` : ""),
  );
  console.log(`\nby project function (what it and the code it called allocated)`);
  console.log(table(s.byProjectFrame, s.totalBytes, top, messages));
  console.log(`\nby project module`);
  console.log(table(s.byProjectModule, s.totalBytes, top, messages));
  console.log(`\nby allocating function`);
  console.log(table(s.byFunction, s.totalBytes, top, messages));
}
