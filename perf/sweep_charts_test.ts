import { expect } from "expect";
import { renderSvg } from "./chart_render.ts";
import { parseSize } from "./flag_values.ts";
import type { RunSummary } from "./run_analysis.ts";
import { readRunRecord } from "./run_schema.ts";
import { sweepSpecs, varyingDimensions, writeSweepCharts } from "./sweep_charts.ts";

const TESTDATA = new URL("./testdata/", import.meta.url).pathname;
const CLEAN = await readRunRecord(`${TESTDATA}clean`);

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

Deno.test("writeSweepCharts: one SVG per varying dimension; none when nothing varies", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fastchat-sweep-charts-" });
  try {
    expect(await writeSweepCharts(`${dir}/none`, [fakeRun(10, 1, "1KiB", 2)])).toEqual([]);
    const files = await writeSweepCharts(
      `${dir}/charts`,
      [fakeRun(10, 1, "1KiB", 2), fakeRun(20, 1, "1KiB", 3)],
      { png: false },
    );
    expect(files.map((f) => [f.name, f.pngPath])).toEqual([["sweep-clients", undefined]]);
    expect((await Deno.readTextFile(`${dir}/charts/sweep-clients.svg`)).startsWith("<svg")).toBe(
      true,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
