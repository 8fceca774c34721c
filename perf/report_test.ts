import { expect } from "expect";
import {
  configLine,
  configRows,
  formatComparisonTable,
  formatRunTable,
  machineRows,
  peersLabel,
} from "./report.ts";
import { parseRunArgs } from "./run_config.ts";
import { analyzeRunDir } from "./run_analysis.ts";
import { readRunRecord } from "./run_schema.ts";

const TESTDATA = new URL("./testdata/", import.meta.url).pathname;

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
  expect(text).not.toContain("host check"); // the clean run has none
  const cmp = formatComparisonTable([summary]).split("\n");
  expect(cmp[0]).toMatch(/^run\s+clients\s+servers/);
  expect(cmp[1]).toMatch(/^clean\s+2\s+1\s+100B\s+10\s+10\s+0\s+0\s+0\s+5\.000\s+10\.00/);
});

Deno.test("configRows and machineRows: run.json as rows", async () => {
  const clean = await readRunRecord(`${TESTDATA}clean`);
  const config = Object.fromEntries(configRows(clean));
  expect(config).toMatchObject({
    clients: "2",
    servers: "1",
    "messages per client": "5",
    "peers per client": "all others",
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

Deno.test("--peers in the summary: the config line and the configuration rows", async () => {
  const { summary } = await analyzeRunDir(`${TESTDATA}clean`);
  summary.info = structuredClone(summary.info);
  summary.info.config.peers = 8;
  expect(configLine(summary)).toBe("clients 2, servers 1, peers 8, messages 5, payload 100B");
  expect(Object.fromEntries(configRows(summary.info))["peers per client"]).toBe("8");
  expect(formatRunTable(summary)).toContain("peers 8, messages 5");
  const args = ["--clients", "4", "--messages", "1"];
  expect(peersLabel(parseRunArgs(args))).toBe("all others");
  expect(peersLabel(parseRunArgs([...args, "--peers", "2"]))).toBe("2");
  expect(peersLabel(parseRunArgs([...args, "--mode", "group", "--group-size", "2"]))).toBe("—");
});

Deno.test("formatRunTable: the host check before the run, under the title", async () => {
  const { summary } = await analyzeRunDir(`${TESTDATA}procs-s1`);
  expect(formatRunTable(summary).split("\n")[1]).toBe(
    "  host check before the run: 2 threads spinning 2.0 s: stalls over 1 ms 12, over 2 ms 7, over 10 ms 1; longest 36.1 ms; 0.6 % of the time stalled",
  );
});
