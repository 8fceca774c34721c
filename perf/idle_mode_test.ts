import { expect } from "expect";
import {
  formatIdleReport,
  idleReport,
  parseCpuSeconds,
  parseVmRss,
  readCpuSeconds,
  readVmRssKb,
  rssSlope,
} from "./idle_mode.ts";

Deno.test("parseVmRss: the VmRSS line of /proc/<pid>/status", () => {
  const status = "Name:\tdeno\nVmPeak:\t 999999 kB\nVmRSS:\t  123456 kB\nRssAnon:\t 1 kB\n";
  expect(parseVmRss(status)).toBe(123456);
  expect(parseVmRss("Name:\tx\n")).toBeNaN();
});

Deno.test("parseCpuSeconds: utime + stime of /proc/<pid>/stat, even with spaces in the name", () => {
  const fields = "S 1 2 3 4 5 6 7 8 9 10 150 50 0 0 20 0 1 0";
  expect(parseCpuSeconds(`42 (deno) ${fields}`)).toBe(2);
  expect(parseCpuSeconds(`42 (a b) c) ${fields}`)).toBe(2);
});

Deno.test({
  name: "readVmRssKb / readCpuSeconds: this process (Linux)",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    expect(await readVmRssKb(Deno.pid)).toBeGreaterThan(1000);
    expect(await readCpuSeconds(Deno.pid)).toBeGreaterThanOrEqual(0);
    expect(await readVmRssKb(2 ** 30)).toBeNaN();
  },
});

Deno.test("idleReport: KiB per connection per server and in total", () => {
  const r = idleReport([
    { id: "srv-1", pid: 10, before: 50_000, after: 70_000, clients: 1000 },
    { id: "srv-2", pid: 11, before: 50_000, after: 80_000, clients: 1000 },
    { id: "srv-3", pid: 12, before: 50_000, after: 50_100, clients: 0 },
  ]);
  expect(r.servers.map((s) => s.kbPerConnection)).toEqual([20, 30, null]);
  expect(r.servers[1]).toMatchObject({
    rssBeforeKB: 50_000,
    rssAfterKB: 80_000,
    rssDeltaKB: 30_000,
  });
  expect(r.total).toEqual({ clients: 2000, rssDeltaKB: 50_100, kbPerConnection: 25.05 });
  expect(formatIdleReport(r)).toContain("25.1 KiB per connection");
  expect(idleReport([]).total.kbPerConnection).toBeNull();
  // The at-login reading is shown beside the settled one that counts.
  const both = idleReport([
    { id: "srv-1", pid: 10, before: 51_200, atLogin: 276_480, after: 204_800, clients: 10_000 },
  ]);
  const table = formatIdleReport(both);
  expect(table).toContain("at login+3s");
  expect(table).toMatch(/srv-1\s+10000\s+50\.0 MiB\s+270\.0 MiB\s+200\.0 MiB\s+15\.4/);
});

Deno.test("rssSlope: least squares over the upper part of the ramp", () => {
  // 4 KiB per connection plus start-up noise below half the ramp, which is ignored.
  const samples = [
    { tMs: 0, connections: 0, rssKB: 1000 },
    { tMs: 1, connections: 100, rssKB: 9000 },
    { tMs: 2, connections: 500, rssKB: 10_000 + 4 * 500 + 3 },
    { tMs: 3, connections: 700, rssKB: 10_000 + 4 * 700 - 3 },
    { tMs: 4, connections: 900, rssKB: 10_000 + 4 * 900 + 3 },
    { tMs: 5, connections: 1000, rssKB: 10_000 + 4 * 1000 - 3 },
  ];
  expect(rssSlope(samples)).toBeCloseTo(4, 1);
  expect(rssSlope(samples.slice(0, 3))).toBeNull();
  expect(rssSlope([])).toBeNull();
  const r = idleReport([], samples);
  expect(r.slopeKbPerConnection).toBeCloseTo(4, 1);
  expect(formatIdleReport(r)).toContain("marginal");
});
