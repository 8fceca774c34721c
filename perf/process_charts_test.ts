import { expect } from "expect";
import { renderSvg } from "./chart_render.ts";
import { analyzeProcesses, summarizeProcesses } from "./process_analysis.ts";
import { processChartSpecs } from "./process_charts.ts";

const DIR = new URL("./testdata/procs-s1", import.meta.url).pathname;

Deno.test("processChartSpecs: RSS over time with the messaging phase, CPU per message", async () => {
  const p = (await analyzeProcesses(DIR, { messages: 10 }))!;
  const specs = processChartSpecs("procs-s1", p);
  expect(specs.map((s) => s.name)).toEqual(["rss-over-time", "cpu-per-message"]);
  const rss = await renderSvg(specs[0].spec);
  expect(rss).toContain("Resident memory — procs-s1");
  expect(rss).toContain("shaded: messaging phase");
  expect(rss).toContain("srv-1");
  const cpu = await renderSvg(specs[1].spec);
  expect(cpu).toContain("total 34000 µs/msg");
  expect(processChartSpecs("x", summarizeProcesses([], { messages: 1 }))).toEqual([]);
});
