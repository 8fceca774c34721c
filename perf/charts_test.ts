import { expect } from "expect";
import { cdfPoints, downsample, runChartSpecs, writeRunCharts } from "./charts.ts";
import { analyzeRunDir } from "./run_analysis.ts";

const TESTDATA = new URL("./testdata/", import.meta.url).pathname;

Deno.test("downsample: small series kept whole, NaN skipped", () => {
  expect(downsample([5, NaN, 9, 2], 10)).toEqual([{ i: 1, v: 5 }, { i: 3, v: 9 }, { i: 4, v: 2 }]);
});

Deno.test("downsample: bounded, in order, keeps the slowest and spans the series", () => {
  const n = 100_000;
  const values = new Float64Array(n);
  for (let k = 0; k < n; k++) values[k] = 1 + (k % 7) / 10;
  values[54_321] = 500; // a spike
  values[7] = NaN; // a lost message
  const pts = downsample(values, 5_000);
  expect(pts.length).toBeLessThanOrEqual(5_000);
  expect(pts.length).toBeGreaterThan(4_900);
  expect(pts.some((p) => p.i === 54_322 && p.v === 500)).toBe(true);
  for (let k = 1; k < pts.length; k++) expect(pts[k].i).toBeGreaterThan(pts[k - 1].i);
  expect(pts[0].i).toBeLessThan(100);
  expect(pts[pts.length - 1].i).toBeGreaterThan(n - 100);
  // Ties at the outlier threshold do not blow the budget.
  expect(downsample(new Float64Array(20_000).fill(3), 1_000).length).toBeLessThanOrEqual(1_000);
});

Deno.test("cdfPoints: includes min and max, fractions rise to 1", () => {
  const sorted = Float64Array.from({ length: 10_000 }, (_, k) => k + 1);
  const pts = cdfPoints(sorted, 100);
  expect(pts.length).toBe(100);
  expect(pts[0]).toEqual({ latency: 1, fraction: 0.0001 });
  expect(pts[pts.length - 1]).toEqual({ latency: 10_000, fraction: 1 });
  expect(cdfPoints([4])).toEqual([{ latency: 4, fraction: 1 }]);
  expect(cdfPoints([])).toEqual([]);
});

Deno.test("writeRunCharts: three charts as SVG and PNG", async () => {
  const run = await analyzeRunDir(`${TESTDATA}lossy`);
  expect(runChartSpecs(run).map((c) => c.name)).toEqual([
    "latency-by-message",
    "latency-cdf",
    "throughput",
  ]);
  const dir = await Deno.makeTempDir({ prefix: "fastchat-charts-" });
  const files = await writeRunCharts(`${dir}/charts`, run);
  for (const f of files) {
    expect((await Deno.readTextFile(f.svgPath)).startsWith("<svg")).toBe(true);
    expect((await Deno.stat(f.pngPath!)).size).toBeGreaterThan(1000);
  }
  await Deno.remove(dir, { recursive: true });
});
