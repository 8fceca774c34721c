import { expect } from "expect";
import { analyzeProcesses } from "./process_analysis.ts";
import { formatProcessTable, PROCESS_TABLE_HEADER, processTableRows } from "./process_report.ts";
import { readRunRecord } from "./run_schema.ts";

const DIR = new URL("./testdata/procs-s2", import.meta.url).pathname;

Deno.test("processTableRows: each process, role totals for several, total", async () => {
  const info = await readRunRecord(DIR);
  const { summary } = (await analyzeProcesses(DIR, { messages: 10, info }))!;
  const rows = processTableRows(summary);
  expect(rows.every((r) => r.length === PROCESS_TABLE_HEADER.length)).toBe(true);
  expect(rows.map((r) => r[0])).toEqual([
    "srv-1",
    "srv-2",
    "db",
    "lb",
    "worker-0",
    "perf",
    "all servers (2)",
    "total",
  ]);
  expect(rows[0]).toEqual([
    "srv-1",
    "server",
    "0.12",
    "0.12",
    "12000",
    "20.0",
    "100.0 MiB",
    "110.0 MiB",
    "—",
    "—",
    "—",
    "—",
  ]);
  expect(rows[6].slice(2, 6)).toEqual(["0.22", "0.22", "22000", "20.0"]); // all servers
  expect(rows[7].slice(2, 6)).toEqual(["0.36", "0.36", "36000", "18.1"]);
  const text = formatProcessTable(summary);
  expect(text).toMatch(/^processes \(messaging phase: 1\.00 s wall, 10 messages received/);
  expect(text).toContain("sys % = the part of the CPU in the kernel");
  expect(text).toContain("note: GC pauses: not recorded (run perf with --trace-gc)");
});
