import { expect } from "expect";
import { analyzeRuns, commonParent } from "./analyze.ts";

const PERF = new URL(".", import.meta.url).pathname;
const REPO = new URL("..", import.meta.url).pathname;
const TESTDATA = `${PERF}testdata`;

/** Copies test runs into a fresh temp dir (analyze writes into run dirs). */
async function copyRuns(...names: string[]): Promise<string> {
  const tmp = await Deno.makeTempDir({ prefix: "fastchat-analyze-" });
  for (const name of names) {
    await Deno.mkdir(`${tmp}/${name}/clients`, { recursive: true });
    await Deno.copyFile(`${TESTDATA}/${name}/run.json`, `${tmp}/${name}/run.json`);
    for await (const e of Deno.readDir(`${TESTDATA}/${name}/clients`)) {
      await Deno.copyFile(
        `${TESTDATA}/${name}/clients/${e.name}`,
        `${tmp}/${name}/clients/${e.name}`,
      );
    }
    try {
      await Deno.copyFile(`${TESTDATA}/${name}/processes.csv`, `${tmp}/${name}/processes.csv`);
      await Deno.mkdir(`${tmp}/${name}/logs`);
      for await (const e of Deno.readDir(`${TESTDATA}/${name}/logs`)) {
        await Deno.copyFile(`${TESTDATA}/${name}/logs/${e.name}`, `${tmp}/${name}/logs/${e.name}`);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e; // runs without processes.csv or logs
    }
  }
  return tmp;
}

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${PERF}analyze.ts`, ...args],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("analyze CLI: clean run → table, charts, report.html; exit 0", async () => {
  const tmp = await copyRuns("clean");
  const r = await cli("--", `${tmp}/clean`, "--fail-on-loss");
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/latency p50 \(ms\)\s+5\.000/);
  expect(r.stdout).toMatch(/throughput \(msg\/s\)\s+11\.0/);
  expect(r.stdout).toContain(`report: ${tmp}/clean/report.html`);
  const html = await Deno.readTextFile(`${tmp}/clean/report.html`);
  expect(html).toContain("<svg");
  expect(html).toMatch(/latency p50 \(ms\)<\/th><td class="num">5\.000</);
  expect(html).toMatch(/received \(unique\)<\/th><td class="num">10</);
  for (const name of ["latency-by-message", "latency-cdf", "throughput"]) {
    expect((await Deno.stat(`${tmp}/clean/charts/${name}.svg`)).isFile).toBe(true);
    expect((await Deno.stat(`${tmp}/clean/charts/${name}.png`)).isFile).toBe(true);
  }
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("analyze CLI: --fail-on-loss exits 2 on a lossy run, 0 without the flag", async () => {
  const tmp = await copyRuns("lossy");
  let r = await cli(`${tmp}/lossy`, "--fail-on-loss", "--no-charts");
  expect(r.code).toBe(2);
  expect(r.stderr.trim()).toBe(
    "analyze: messages lost or undecryptable in lossy (lost 2, undecryptable 1)",
  );
  expect(r.stdout).toContain(`report: ${tmp}/lossy/report.html`);
  r = await cli(`${tmp}/lossy`, "--no-charts");
  expect(r.code).toBe(0);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("analyze CLI: bad input is one line on stderr and exit 1", async () => {
  let r = await cli(`${TESTDATA}/corrupt`);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(
    `analyze: ${TESTDATA}/corrupt/clients/u17.csv line 4: time_ms "abc" is not a number\n`,
  );
  r = await cli("/nonexistent/run");
  expect(r.code).toBe(1);
  expect(r.stderr).toBe("analyze: /nonexistent/run: no such run directory\n");
  r = await cli();
  expect(r.code).toBe(1);
  expect(r.stderr).toBe("analyze: no run directory given (see --help)\n");
  r = await cli("--bogus", "x");
  expect(r.code).toBe(1);
  expect(r.stderr.split("\n").length).toBe(2);
  expect(r.stderr).toMatch(/^analyze: .*bogus/);
});

Deno.test("analyze CLI: --json prints machine-readable results", async () => {
  const tmp = await copyRuns("clean", "lossy");
  const r = await cli("--json", "--no-charts", `${tmp}/clean`, `${tmp}/lossy`);
  expect(r.code).toBe(0);
  const j = JSON.parse(r.stdout);
  expect(j.runs.length).toBe(2);
  expect(j.runs[0].latencyMs.p99).toBe(10);
  expect(j.runs[1].counts.lost).toBe(2);
  expect(j.runs[1].phases.loginsPerSec).toBe(null); // NaN → null
  expect(j.lossy).toBe(true);
  expect(j.reports).toEqual([`${tmp}/clean/report.html`, `${tmp}/lossy/report.html`]);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("analyzeRuns: several runs → combined report and sweep chart in --out", async () => {
  const tmp = await copyRuns("clean", "lossy");
  const r = await analyzeRuns([`${tmp}/clean`, `${tmp}/lossy`, `${tmp}/clean/`], {
    out: `${tmp}/summary`,
    png: false,
  });
  expect(r.runs.map((s) => s.name)).toEqual(["clean", "lossy"]); // duplicate dir dropped
  expect(r.lossy).toBe(true);
  expect(r.combinedReport).toBe(`${tmp}/summary/report.html`);
  const html = await Deno.readTextFile(r.combinedReport!);
  expect(html).toContain('<a href="../clean/report.html">clean</a>');
  expect(html).toContain("Latency and throughput vs clients"); // clients 2 vs 3
  expect(r.charts).toContain(`${tmp}/summary/charts/sweep-clients.svg`);
  expect(r.charts.some((c) => c.endsWith(".png"))).toBe(false);

  // Default location: the common parent.
  const r2 = await analyzeRuns([`${tmp}/clean`, `${tmp}/lossy`], { charts: false });
  expect(r2.combinedReport).toMatch(/report\.html$/);
  expect((await Deno.stat(`${tmp}/report.html`)).isFile).toBe(true);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("analyze CLI: two runs → processes, deltas, servers table; compare.html with overlaid CDFs", async () => {
  const tmp = await copyRuns("procs-s1", "procs-s2");
  const r = await cli(`${tmp}/procs-s1`, `${tmp}/procs-s2`);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  // Per process: CPU s, cores, µs/msg, RSS, GC of the traced server.
  expect(r.stdout).toMatch(
    /srv-1\s+server\s+0\.20\s+0\.20\s+20000\s+—\s+100\.0 MiB\s+120\.0 MiB\s+2\s+4\.500\s+3\.000/,
  );
  expect(r.stdout).toMatch(/all servers \(2\)\s+server\s+0\.22\s+0\.22\s+22000/);
  // Deltas of b against a.
  expect(r.stdout).toMatch(/CPU µs\/msg servers\s+20000\s+22000\s+\+2000\s+\+10\.0 % worse/);
  expect(r.stdout).toMatch(/CPU µs\/msg database\s+2000\s+2000\s+±0\.00\s+\+0\.0 %/);
  expect(r.stdout).toMatch(/GC pause total, servers \(ms\)\s+4\.500\s+—/);
  // Servers table: each server's CPU over its share of the messages.
  expect(r.stdout).toMatch(/procs-s2\s+2\s+2\s+11\.0\s+22000\s+20000–24000\s+—\s+—\s+—\s+0\.11/);
  expect(r.stdout).toContain("on 2 cores");
  expect(r.stdout).toContain(`compare report: ${tmp}/compare.html`);
  const cmp = await Deno.readTextFile(`${tmp}/compare.html`);
  expect(cmp).toContain("Latency CDF — both runs");
  expect(cmp).toContain('<a href="procs-s1/report.html">a = procs-s1</a>');
  expect(cmp).toMatch(/<tr class="bad"><th scope="row">CPU µs\/msg servers/);
  expect((await Deno.stat(`${tmp}/charts/compare-latency-cdf.png`)).isFile).toBe(true);
  expect((await Deno.stat(`${tmp}/charts/server-scaling.svg`)).isFile).toBe(true);
  const combined = await Deno.readTextFile(`${tmp}/report.html`);
  expect(combined).toContain("Throughput and CPU per message vs servers");
  const one = await Deno.readTextFile(`${tmp}/procs-s1/report.html`);
  expect(one).toContain("<h2>Processes</h2>");
  expect(one).toContain("Resident memory over time");
  for (const name of ["rss-over-time", "cpu-per-message"]) {
    expect((await Deno.stat(`${tmp}/procs-s1/charts/${name}.png`)).isFile).toBe(true);
  }
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("commonParent", () => {
  expect(commonParent(["/out/a", "/out/b/"])).toBe("/out");
  expect(commonParent(["/out/a/x", "/out/b"])).toBe("/out");
  expect(commonParent(["/a", "/b"])).toBe("/");
  expect(commonParent(["/out/a"])).toBe("/out");
});
