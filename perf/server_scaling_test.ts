import { expect } from "expect";
import { analyzeRunDir } from "./run_analysis.ts";
import { analyzedTestRun as run, PERF_TESTDATA } from "@fastchat/testing/perf_runs";
import {
  formatServerScaling,
  serverScalingNote,
  serverScalingPoints,
  serverScalingRows,
  serverScalingSpecs,
} from "./server_scaling.ts";
import { renderSvg } from "./chart_render.ts";
import { emptyServerCounters } from "./server_counters.ts";

Deno.test("serverScalingPoints: per-message CPU of all servers and of each server's share", async () => {
  const runs = [await run("procs-s2"), await run("procs-s1")];
  const pts = serverScalingPoints(runs);
  expect(pts.map((p) => p.servers)).toEqual([1, 2]); // sorted by servers
  expect(pts[0]).toMatchObject({
    serversUsPerMsg: 20_000,
    perServerUsPerMsg: [{ name: "srv-1", us: 20_000 }],
    cpuSecPerServer: 0.2,
    serverCores: 0.2,
    totalCores: 0.34,
    dbUsPerMsg: 2_000,
    machineCores: 2,
  });
  // 10 messages over 2 servers: each server's share is 5.
  expect(pts[1].perServerUsPerMsg).toEqual([
    { name: "srv-1", us: 24_000 },
    { name: "srv-2", us: 20_000 },
  ]);
  expect(pts[1].cpuSecPerServer).toBeCloseTo(0.11);
  expect(serverScalingRows(pts)[2].slice(0, 10)).toEqual([
    "procs-s2",
    "2",
    "2",
    "11.0",
    "22000",
    "20000–24000",
    "—", // no server counters in this run's logs: crossed, µs/visit, writes/msg unknown
    "—",
    "—",
    "0.11",
  ]);
  // With the servers' counters: half the messages crossed, so each was handled 1.5 times.
  runs[0].serverCounters = {
    ...emptyServerCounters(),
    servers: 2,
    accepted: 10,
    forwarded: 5,
    socketWrites: 12,
    peerWrites: 3,
  };
  const [, two] = serverScalingPoints(runs);
  expect(two.crossed).toBe(0.5);
  expect(two.usPerVisit).toBeCloseTo(22_000 / 1.5);
  expect(two.writesPerMsg).toBe(1.5);
  expect(serverScalingRows([two])[1].slice(6, 9)).toEqual(["50 %", "14667", "1.50"]);
  const text = formatServerScaling(runs)!;
  expect(text).toContain("note: on 2 cores");
  const [chart] = serverScalingSpecs(runs);
  expect(chart.name).toBe("server-scaling");
  expect(await renderSvg(chart.spec)).toContain("CPU µs per message");
});

Deno.test("serverScaling: nothing when servers do not vary or nothing was sampled", async () => {
  const s1 = await run("procs-s1");
  expect(serverScalingPoints([s1, s1])).toEqual([]);
  const clean = (await analyzeRunDir(`${PERF_TESTDATA}/clean`)).summary;
  expect(formatServerScaling([clean, s1])).toBeNull(); // one run with processes.csv
  expect(serverScalingSpecs([])).toEqual([]);
  expect(serverScalingNote(8)).toContain("beyond the cores");
});
