import { expect } from "expect";
import { escapeHtml, renderCombinedReport, renderRunReport } from "./report_html.ts";
import { analyzeRunDir } from "./run_analysis.ts";
import { summarizeWakeDelays } from "./wake_delay_summary.ts";

const TESTDATA = new URL("./testdata/", import.meta.url).pathname;

Deno.test("escapeHtml: element content and attribute values", () => {
  expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
    "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
  );
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

Deno.test("renderRunReport: the load workers' heap allocations when the run was sampled", async () => {
  const { summary } = await analyzeRunDir(`${TESTDATA}clean`);
  expect(renderRunReport(summary, [])).not.toContain("heap allocations");
  summary.heapAllocation = {
    profiles: 2,
    totalBytes: 4_000_000,
    bytesPerMessage: 40_000,
    top: [{ name: "sealMessage <lib/crypto/aead.ts:128>", bytes: 1_000_000 }],
  };
  const html = renderRunReport(summary, []);
  expect(html).toContain("<h2>Load workers' heap allocations</h2>");
  expect(html).toContain(
    '<th scope="row">allocated (2 profiles)</th><td class="num">4.0 MB, 40000 B per message</td>',
  );
  expect(html).toContain(
    '<th scope="row">sealMessage &lt;lib/crypto/aead.ts:128&gt;</th><td class="num">25.0 %, 10000 B per message</td>',
  );
});

Deno.test("renderRunReport: where the CPU went, when the run recorded Linux perf", async () => {
  const { summary } = await analyzeRunDir(`${TESTDATA}clean`);
  expect(renderRunReport(summary, [])).not.toContain("Linux perf");
  const parts = { js: 30, builtins: 1, runtime: 31, kernel: 21, libc: 8, helpers: 9, other: 0 };
  summary.linuxPerf = [
    { name: "srv-1", role: "server", samples: 100, parts, top: [] },
    {
      name: "all servers (2)",
      role: "server",
      samples: 200,
      parts: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, 2 * v])) as typeof parts,
      top: [{ samples: 42, part: "kernel", symbol: "<pvm_irq_enable>" }],
    },
  ];
  const html = renderRunReport(summary, []);
  expect(html).toContain("<h2>Where the CPU went (Linux perf, messaging phase)</h2>");
  expect(html).toContain(
    '<th scope="row">srv-1</th><td class="num">100</td><td class="num">30.0 %</td><td class="num">1.0 %</td><td class="num">31.0 %</td>',
  );
  expect(html).toContain("Top symbols, all servers (2)");
  expect(html).toContain(
    '<th scope="row">&lt;pvm_irq_enable&gt;</th><td class="num">kernel</td><td class="num">21.0 %</td>',
  );
});

Deno.test("renderRunReport: the host check before the run, when it ran", async () => {
  const { summary } = await analyzeRunDir(`${TESTDATA}procs-s1`);
  expect(renderRunReport(summary, [])).toContain(
    '<p class="meta">host check before the run: 2 threads spinning 2.0 s: stalls over 1 ms 12, over 2 ms 7, over 10 ms 1; longest 36.1 ms; 0.6 % of the time stalled</p>',
  );
  const clean = (await analyzeRunDir(`${TESTDATA}clean`)).summary;
  expect(renderRunReport(clean, [])).not.toContain("host check");
  expect(renderRunReport(clean, [])).not.toContain("Wake-up delays");
  // One wake-up 25 ms late in the clean run's messaging phase (one of its messages took 10 ms+).
  const start = clean.info.phases.messaging!.startMs;
  clean.wakeDelays = summarizeWakeDelays(
    {
      periodMs: 1,
      minLateMs: 2,
      startedAtMs: start,
      stoppedAtMs: start + 2000,
      wakeups: 900,
      lostEvents: 0,
      events: [[start + 100, 25]],
    },
    new Float64Array([start + 110]),
    new Float64Array([12]),
  );
  const html = renderRunReport(clean, []);
  expect(html).toContain("<h2>Wake-up delays (messaging phase)</h2>");
  expect(html).toContain("longest 25 ms");
  expect(html).toContain(
    "messages over 10 ms: 1; in flight during a wake-up over 3 ms late: 1 (100.0 %;",
  );
});

Deno.test("renderCombinedReport: comparison rows link to run reports", async () => {
  const a = (await analyzeRunDir(`${TESTDATA}clean`)).summary;
  const b = (await analyzeRunDir(`${TESTDATA}lossy`)).summary;
  const html = renderCombinedReport([a, b], [], ["clean/report.html", "lossy/report.html"]);
  expect(html).toContain('<a href="clean/report.html">clean</a>');
  expect(html).toContain("2 runs");
  expect(html).toContain('<tr class="bad"><td><a href="lossy/report.html">lossy</a>');
});
