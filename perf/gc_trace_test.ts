import { expect } from "expect";
import { gcPausesIn, parseGcLine, parseGcLog, traceGcEnv, withTraceGc } from "./gc_trace.ts";

// Real lines of `deno run --v8-flags=--trace-gc` (deno 2.9, V8 15).
const LOG = `listening on 127.0.0.1:40001
[4242:0x56506d3ef000]       12 ms: Scavenge 3.3 (4.6) -> 3.2 (5.6) MB, pooled: 0.0 MB, 3.82 / 0.00 ms (average mu = 1.000, current mu = 1.000) allocation failure; 
[4242:0x56506d3ef000]       71 ms: Incremental Mark-Compact 47.9 (50.7) -> 41.7 (44.6) MB, pooled: 0.0 MB, 5.20 / 0.00 ms (+ 2.9 ms in 173 steps since start of marking, biggest step 0.1 ms, walltime since start of marking 33 ms) (average mu = 0.891, current mu = 0.891) finalize incremental marking via stack guard; GC in old space requested
[4242:0x56506d3ef000]       73 ms: Scavenge (during sweeping) 44.1 (45.7) -> 43.8 (46.2) MB, pooled: 0.0 MB, 0.74 / 0.00 ms (average mu = 0.891, current mu = 0.891) allocation failure; 
[4242:0x56506d3ef000]     2013 ms: Scavenge 3.3 (5.6) -> 3.3 (6.4) MB, 0.67 / 0.00 ms (average mu = 1.000, current mu = 1.000) allocation failure; 
[not a gc line] 12 ms: nothing
`;

Deno.test("parseGcLine: kinds, offsets and main-thread pauses", () => {
  const ev = parseGcLog(LOG);
  expect(ev.map((e) => [e.pid, e.sinceStartMs, e.kind, e.pauseMs, e.heapAfterMb])).toEqual([
    [4242, 12, "Scavenge", 3.82, 3.2],
    [4242, 71, "Incremental Mark-Compact", 5.2, 41.7],
    [4242, 73, "Scavenge", 0.74, 43.8],
    [4242, 2013, "Scavenge", 0.67, 3.3],
  ]);
  expect(parseGcLine("listening on 127.0.0.1:40001")).toBeNull();
});

Deno.test("gcPausesIn: only the window, only pids with a start time", () => {
  const ev = parseGcLog(LOG);
  const starts = new Map([[4242, 10_000]]);
  expect(gcPausesIn(ev, starts, 10_050, 10_100)).toEqual({
    count: 2,
    totalMs: 5.94,
    maxMs: 5.2,
    majorCount: 1,
    oldGenMbPerS: 1050, // 41.7 → 43.8 MB in 2 ms
  });
  expect(gcPausesIn(ev, starts, 0, Infinity).count).toBe(4);
  expect(gcPausesIn(ev, new Map(), 0, Infinity).count).toBe(0);
});

Deno.test("gcPausesIn: the old generation's growth counts what scavenges left, not what a mark-compact freed", () => {
  const line = (pid: number, ms: number, kind: string, after: number) =>
    `[${pid}:0x1]  ${ms} ms: ${kind} 20.0 (24.0) -> ${after} (24.0) MB, 1.00 / 0.00 ms (x)`;
  const ev = parseGcLog([
    line(7, 1000, "Scavenge", 10),
    line(7, 2000, "Scavenge", 11),
    line(7, 3000, "Scavenge", 12),
    line(7, 3500, "Mark-Compact", 5), // frees 7 MB: not negative growth
    line(7, 4500, "Scavenge", 5.5),
    line(8, 1000, "Scavenge", 50), // another pid: its own sequence
    line(8, 4500, "Scavenge", 51),
  ].join("\n"));
  const starts = new Map([[7, 0], [8, 0]]);
  // (1 + 1 + 0.5 + 1) MB over (3.5 + 3.5) s of collections
  expect(gcPausesIn(ev, starts, 0, Infinity).oldGenMbPerS).toBe(0.5);
  // One collection in the window: no rate.
  expect(gcPausesIn(ev, starts, 1500, 2500).oldGenMbPerS).toBeNull();
});

Deno.test("withTraceGc: a Deno child prints its collections; the variable is restored", async () => {
  const before = Deno.env.get("DENO_V8_FLAGS");
  const out = await withTraceGc(true, () =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        "let a = []; for (let i = 0; i < 300000; i++) { a.push({ i }); if (a.length > 1000) a = []; }",
      ],
      stdout: "piped",
      stderr: "null",
    }).output());
  expect(Deno.env.get("DENO_V8_FLAGS")).toBe(before);
  const ev = parseGcLog(new TextDecoder().decode(out.stdout));
  expect(ev.length).toBeGreaterThan(0);
  expect(ev.every((e) => e.pauseMs >= 0 && e.kind.length > 0)).toBe(true);
});

Deno.test("traceGcEnv: adds to what is set", () => {
  const env = traceGcEnv({ DENO_V8_FLAGS: "--max-old-space-size=100", LD_PRELOAD: "/x.so" });
  if (env === null) return; // no coreutils here: withTraceGc refuses (tested above otherwise)
  expect(env.DENO_V8_FLAGS).toBe("--max-old-space-size=100,--trace-gc");
  expect(env.LD_PRELOAD).toMatch(/^\/x\.so:\/.*libstdbuf\.so$/);
  expect(env._STDBUF_O).toBe("L");
});
