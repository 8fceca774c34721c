import { expect } from "expect";
import {
  alignTable,
  configRows,
  escapeHtml,
  fmtCount,
  fmtMB,
  fmtMs,
  fmtRate,
  formatComparisonTable,
  formatRunTable,
  machineRows,
  renderCombinedReport,
  renderRunReport,
} from "./report.ts";
import { analyzeRunDir } from "./run_analysis.ts";
import { readRunRecord } from "./run_schema.ts";

const TESTDATA = new URL("./testdata/", import.meta.url).pathname;

Deno.test("formatting helpers", () => {
  expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
    "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
  );
  expect(fmtCount(12)).toBe("12");
  expect(fmtCount(NaN)).toBe("—");
  expect(fmtMs(1.23456)).toBe("1.235");
  expect(fmtMs(23.456)).toBe("23.46");
  expect(fmtMs(234.56)).toBe("234.6");
  expect(fmtMs(2345.6)).toBe("2346");
  expect(fmtMs(undefined)).toBe("—");
  expect(fmtRate(1.234)).toBe("1.23");
  expect(fmtRate(12345.6)).toBe("12346");
  expect(fmtMB(0.01234)).toBe("0.0123");
  expect(fmtMB(Infinity)).toBe("—");
  expect(alignTable([["a", "1"], ["bbb", "22"]], "  ")).toBe("  a     1\n  bbb  22");
});

Deno.test("formatRunTable: the numbers of the clean run", async () => {
  const { summary } = await analyzeRunDir(`${TESTDATA}clean`);
  const text = formatRunTable(summary);
  const line = (label: string) => text.split("\n").find((l) => l.trimStart().startsWith(label));
  expect(line("sent")).toMatch(/ 10$/);
  expect(line("lost ")).toMatch(/ 0$/);
  expect(line("latency p50 (ms)")).toMatch(/ 5\.000$/);
  expect(line("latency p99 (ms)")).toMatch(/ 10\.00$/);
  expect(line("throughput (msg/s)")).toMatch(/ 11\.0$/);
  expect(line("registrations/s")).toMatch(/ 50\.0$/);
  expect(text).toContain("clients 2, servers 1, messages 5, payload 100B; started");
  const cmp = formatComparisonTable([summary]).split("\n");
  expect(cmp[0]).toMatch(/^run\s+clients\s+servers/);
  expect(cmp[1]).toMatch(/^clean\s+2\s+1\s+100B\s+10\s+10\s+0\s+0\s+0\s+5\.000\s+10\.00/);
});

Deno.test("renderRunReport: self-contained, escaped, with the table", async () => {
  const { summary } = await analyzeRunDir(`${TESTDATA}lossy`);
  summary.info.machine.hostname = `<script>alert("x")</script>`;
  const html = renderRunReport(summary, [
    { name: "c", title: "Chart & co", svg: '<svg xmlns="http://www.w3.org/2000/svg"></svg>' },
  ]);
  expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
  expect(html).not.toContain("<script");
  expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
  expect(html).toContain("Chart &amp; co");
  expect(html).toContain("<svg");
  expect(html).toMatch(/<tr class="bad"><th scope="row">lost<\/th><td class="num">2<\/td>/);
  expect(html).toContain("DECRYPT_FAILED");
  // What a --lb run does not know shows as a dash.
  expect(html).toMatch(/<th scope="row">servers<\/th><td class="num">—<\/td>/);
  // No external resources: the only URL is the SVG namespace.
  const urls = html.match(/https?:\/\/[^\s"'<>]+/g) ?? [];
  expect(urls.every((u) => u === "http://www.w3.org/2000/svg")).toBe(true);
  expect(html).not.toMatch(/<(link|script|img|iframe)\b/);
});

Deno.test("renderCombinedReport: comparison rows link to run reports", async () => {
  const a = (await analyzeRunDir(`${TESTDATA}clean`)).summary;
  const b = (await analyzeRunDir(`${TESTDATA}lossy`)).summary;
  const html = renderCombinedReport([a, b], [], ["clean/report.html", "lossy/report.html"]);
  expect(html).toContain('<a href="clean/report.html">clean</a>');
  expect(html).toContain("2 runs");
  expect(html).toContain('<tr class="bad"><td><a href="lossy/report.html">lossy</a>');
});

Deno.test("configRows and machineRows: run.json as rows", async () => {
  const clean = await readRunRecord(`${TESTDATA}clean`);
  const config = Object.fromEntries(configRows(clean));
  expect(config).toMatchObject({
    clients: "2",
    servers: "1",
    "messages per client": "5",
    payload: "100B (100 B)",
    "send model": "delay const:100ms",
    "duration (ms)": "—",
    seed: "s42",
    database: "—",
    "load balancer": "—",
    started: "2026-01-01T00:00:00.000Z",
  });
  const lossy = Object.fromEntries(configRows(await readRunRecord(`${TESTDATA}lossy`)));
  expect(lossy).toMatchObject({
    servers: "—",
    "send model": "window 16",
    "load balancer": "127.0.0.1:7700",
  });
  expect(Object.fromEntries(machineRows(clean))).toMatchObject({
    cores: "2",
    "os / arch": "linux / x86_64",
    hostname: "perf-box",
    deno: "2.9.6",
  });
});
