import { expect } from "expect";
import {
  analyzeProcesses,
  parseProcessesCsv,
  type ProcessRow,
  summarizeProcesses,
} from "./process_analysis.ts";
import { readRunRecord } from "./run_schema.ts";

const TESTDATA = new URL("./testdata", import.meta.url).pathname;
const MiB = 2 ** 20;

Deno.test("analyzeProcesses: CPU in the messaging phase, µs/msg, cores, RSS, GC (synthetic run)", async () => {
  const info = await readRunRecord(`${TESTDATA}/procs-s1`);
  const p = (await analyzeProcesses(`${TESTDATA}/procs-s1`, { messages: 10, info }))!;
  const s = p.summary;
  expect(s.phaseMs).toBe(1000);
  expect(s.ticks).toBe(5);
  expect(s.processes.map((x) => [x.name, x.cpuMs, x.cpuUsPerMsg, x.cores])).toEqual([
    ["srv-1", 200, 20_000, 0.2],
    ["db", 20, 2_000, 0.02],
    ["lb", 10, 1_000, 0.01],
    ["worker-0", 100, 10_000, 0.1],
    ["perf", 10, 1_000, 0.01],
  ]);
  const srv = s.processes[0];
  expect([srv.rssMinBytes, srv.rssMaxBytes]).toEqual([100 * MiB, 120 * MiB]);
  // GC at 5 s (before the phase), 10.1 s and 10.6 s after the server started.
  // Between them a mark-compact, which frees: nothing counted as kept.
  expect(srv.gc).toEqual({ count: 2, totalMs: 4.5, maxMs: 3, majorCount: 1, oldGenMbPerS: 0 });
  expect(s.processes.find((x) => x.name === "db")!.gc).toBeNull(); // no log
  expect(s.gcTraced).toBe(true);
  // A run written before sys_ms was sampled: no kernel share.
  expect(s.total).toEqual({ cpuMs: 340, cpuUsPerMsg: 34_000, cores: 0.34, sysShare: NaN });
  expect(srv.sysShare).toBeNaN();
  expect(s.roles.map((r) => r.role)).toEqual(["server", "db", "lb", "worker", "perf"]);
  expect(s.notes[0]).toMatch(/^GC pauses \(V8 --trace-gc/);
  expect(p.rss.messaging).toEqual([1, 2]);
  expect(p.rss.points.filter((x) => x.name === "srv-1").map((x) => x.mib)).toEqual([
    100,
    100,
    120,
    100,
    100,
  ]);
});

Deno.test("analyzeProcesses: null without processes.csv", async () => {
  expect(await analyzeProcesses(`${TESTDATA}/clean`, { messages: 10 })).toBeNull();
});

const row = (
  tMs: number,
  phase: string,
  pid: number,
  cpuMs: number,
  o: Partial<ProcessRow> = {},
): ProcessRow => ({
  tMs,
  phase,
  role: "db",
  name: "postgres",
  pid,
  startMs: 0,
  cpuMs,
  rssBytes: MiB,
  sysMs: NaN,
  ...o,
});

Deno.test("summarizeProcesses: pids of one name are summed; a pid born in the phase counts from 0", () => {
  const rows = [
    row(1000, "messaging", 1, 50),
    row(1000, "messaging", 1, 50), // a second sample in the same ms (phase boundary)
    row(1500, "messaging", 1, 80),
    row(1500, "messaging", 2, 30, { startMs: 1200 }), // new backend during the phase
    row(2000, "messaging", 2, 70, { startMs: 1200 }),
    row(2000, "messaging", 1, 90),
    row(2500, "after", 1, 500),
  ];
  const { summary } = summarizeProcesses(rows, { messages: 100 });
  const [pg] = summary.processes;
  expect(pg.pids).toBe(2);
  expect(pg.cpuMs).toBe(40 + 70);
  expect(pg.cpuUsPerMsg).toBe(1100);
  expect(pg.cores).toBe(0.11);
  expect(pg.rssMaxBytes).toBe(2 * MiB); // two pids, not a doubled sample
  expect(pg.rssMinBytes).toBe(MiB);
  expect(pg.gc).toBeNull();
});

Deno.test("summarizeProcesses: no messaging rows → NaN CPU, RSS still there", () => {
  const { summary, rss } = summarizeProcesses([row(1, "login", 1, 5)], { messages: 0 });
  expect(summary.processes[0].cpuMs).toBeNaN();
  expect(summary.processes[0].rssMaxBytes).toBe(MiB);
  expect(summary.roles[0].cpuMs).toBeNaN(); // not 0: nothing was measured
  expect(summary.total.cpuMs).toBeNaN();
  expect(rss.messaging).toBeNull();
});

Deno.test("parseProcessesCsv: header and rows are checked", () => {
  expect(() => parseProcessesCsv("a,b\n")).toThrow(/unexpected header/);
  const h = "t_ms,phase,role,name,pid,start_ms,cpu_ms,rss_bytes\n";
  expect(() => parseProcessesCsv(h + "1,x,db,db,1,0,abc,5\n")).toThrow(/line 2: bad row/);
  expect(parseProcessesCsv(h + "1,x,db,db,1,0,7,5\n")).toEqual([
    {
      tMs: 1,
      phase: "x",
      role: "db",
      name: "db",
      pid: 1,
      startMs: 0,
      cpuMs: 7,
      rssBytes: 5,
      sysMs: NaN,
    },
  ]);
  expect(() => parseProcessesCsv(h + "1,x,db,db,1,0,7,5,2\n")).toThrow(/line 2: bad row/);
  const h9 = "t_ms,phase,role,name,pid,start_ms,cpu_ms,rss_bytes,sys_ms\n";
  expect(parseProcessesCsv(h9 + "1,x,db,db,1,0,7,5,2\n")[0].sysMs).toBe(2);
  expect(() => parseProcessesCsv(h9 + "1,x,db,db,1,0,7,5\n")).toThrow(/line 2: bad row/);
  expect(() => parseProcessesCsv(h9 + "1,x,db,db,1,0,7,5,x\n")).toThrow(/line 2: bad row/);
});

Deno.test("summarizeProcesses: the kernel's share, per process, role and in total", () => {
  const rows = [
    row(1000, "messaging", 1, 50, { sysMs: 10 }),
    row(1500, "messaging", 2, 30, { startMs: 1200, sysMs: 5 }), // born in the phase: from 0
    row(2000, "messaging", 2, 70, { startMs: 1200, sysMs: 20 }),
    row(2000, "messaging", 1, 90, { sysMs: 16 }),
    row(1000, "messaging", 3, 0, { role: "server", name: "srv-1", sysMs: 0 }),
    row(2000, "messaging", 3, 100, { role: "server", name: "srv-1", sysMs: 30 }),
  ];
  const { summary } = summarizeProcesses(rows, { messages: 100 });
  const by = new Map(summary.processes.map((p) => [p.name, p]));
  expect([by.get("postgres")!.sysMs, by.get("postgres")!.sysShare]).toEqual([6 + 20, 0.236]);
  expect([by.get("srv-1")!.sysMs, by.get("srv-1")!.sysShare]).toEqual([30, 0.3]);
  expect(summary.roles.map((r) => [r.role, r.sysShare])).toEqual([["server", 0.3], ["db", 0.236]]);
  expect(summary.total.sysShare).toBe(0.267); // 56 of 210 ms
});
