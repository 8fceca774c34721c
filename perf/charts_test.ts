import { expect } from "expect";
import {
  cdfPoints,
  downsample,
  latencyCdfSpec,
  renderSvg,
  runChartSpecs,
  svgToPng,
  sweepSpecs,
  varyingDimensions,
  writeRunCharts,
} from "./charts.ts";
import { parseSize } from "./flag_values.ts";
import { analyzeRunDir, type RunSummary } from "./run_analysis.ts";
import { readRunRecord } from "./run_schema.ts";

const TESTDATA = new URL("./testdata/", import.meta.url).pathname;
const CLEAN = await readRunRecord(`${TESTDATA}clean`);

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

function fakeRun(clients: number, servers: number, payload: string, p50: number): RunSummary {
  return {
    dir: `r-${clients}-${servers}-${payload}`,
    name: `r-${clients}-${servers}-${payload}`,
    info: {
      ...CLEAN,
      config: { ...CLEAN.config, clients, servers, payload, payloadBytes: parseSize(payload) },
    },
    files: clients,
    rows: 0,
    counts: {
      sent: 0,
      acked: 0,
      delivered: 0,
      received: 0,
      receptions: 0,
      lost: 0,
      lostSilently: 0,
      duplicated: 0,
      duplicatedMessages: 0,
      undecryptable: 0,
      errors: 0,
      unmatchedReceived: 0,
    },
    errorsByCode: {},
    latencyMs: { count: 1, min: p50, p50, p90: p50, p99: p50 * 2, max: p50 * 2, mean: p50 },
    throughput: {
      startMs: 0,
      endMs: 1000,
      windowMs: 1000,
      messages: 100,
      bytes: 100,
      messagesPerSec: 100 * clients,
      mbPerSec: 0.1,
      sendRatePerSec: 100,
      steady: {
        trim: 0.1,
        startMs: 100,
        endMs: 900,
        messages: 80,
        messagesPerSec: 100,
        mbPerSec: 0.1,
        latencyMs: { count: 0, min: NaN, p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN },
      },
    },
    phases: {
      registrations: NaN,
      registrationsPerSec: NaN,
      logins: NaN,
      loginsPerSec: NaN,
      messagingMs: NaN,
    },
    warnings: [],
  };
}

Deno.test("varyingDimensions and sweepSpecs: one chart per varying dimension", async () => {
  const c = { clients: 1, servers: null, payload: "1KiB", payloadBytes: 1024 };
  expect(varyingDimensions([c, { ...c, servers: 2 }])).toEqual([]);
  expect(varyingDimensions([c, { ...c, payload: "1KB", payloadBytes: 1000 }])).toEqual(["payload"]);
  const runs = [
    fakeRun(10, 1, "1KiB", 2),
    fakeRun(100, 1, "1KiB", 3),
    fakeRun(10, 2, "1KiB", 2.5),
    fakeRun(100, 2, "1KiB", 3.5),
  ];
  const specs = sweepSpecs(runs);
  expect(specs.map((s) => s.name)).toEqual(["sweep-clients", "sweep-servers"]);
  const svg = await renderSvg(specs[0].spec);
  expect(svg.startsWith("<svg")).toBe(true);
  expect(svg).toContain("servers=2 · p99");
  expect(svg).toContain("latency (ms)");

  const payloads = sweepSpecs([fakeRun(10, 1, "64KiB", 5), fakeRun(10, 1, "100B", 1)]);
  expect(payloads.map((s) => s.name)).toEqual(["sweep-payload"]);
  const psvg = await renderSvg(payloads[0].spec);
  expect(psvg).toContain("MB / s");
  expect(psvg.indexOf(">100B<")).toBeLessThan(psvg.indexOf(">64KiB<"));
});

Deno.test("renderSvg / svgToPng: CDF chart renders with axis titles; PNG signature", async () => {
  const svg = await renderSvg(latencyCdfSpec("run <1>", Float64Array.of(1, 2, 3, 500)));
  expect(svg).toContain("fraction of messages");
  expect(svg).toContain("run &lt;1&gt;");
  const png = svgToPng(svg);
  expect([...png.slice(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
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
