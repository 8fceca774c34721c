import { expect } from "expect";
import { CSV_HEADER } from "./client_log.ts";
import { cpuMicrosPerDelivery, modeAccumulator, modeRows } from "./mode_analysis.ts";
import { formatRunTable } from "./report.ts";
import { renderRunReport } from "./report_html.ts";
import { analyzeRunDir, isLossy } from "./run_analysis.ts";

/** A run directory like `perf/testdata/clean`, with `config` and `extra` merged into run.json. */
async function runDir(
  config: Record<string, unknown>,
  extra: Record<string, unknown>,
  logs: Record<string, string[]>,
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "fastchat-mode-analysis-" });
  const run = JSON.parse(await Deno.readTextFile("perf/testdata/clean/run.json"));
  Object.assign(run.config, config);
  Object.assign(run, extra);
  run.phases.messaging = {
    startMs: 1000,
    endMs: 2000,
    lastSendMs: 1100,
    completed: true,
    drainTimedOut: false,
    cpuSeconds: { "srv-1": 0.3, db: 0.1, "worker-0": 0.6, lb: 0 },
  };
  await Deno.writeTextFile(`${dir}/run.json`, JSON.stringify(run));
  await Deno.mkdir(`${dir}/clients`);
  for (const [user, rows] of Object.entries(logs)) {
    await Deno.writeTextFile(
      `${dir}/clients/${user}.csv`,
      [CSV_HEADER.join(","), ...rows].join("\n") + "\n",
    );
  }
  return dir;
}

Deno.test("group run: deliveries judged against run.json's groups, shown in table and report", async () => {
  const dir = await runDir(
    { mode: "group", clients: 3, groupSize: 3, groupSenders: 1 },
    { groups: [{ name: "g", members: ["u0", "u1", "u2"] }] },
    {
      u0: [
        "m1,sent,1000.000,100,#g,group",
        "m1,acked,1001.000,100,#g,group",
        "m2,sent,1100.000,100,#g,group",
      ],
      u1: ["m1,received,1010.000,100,u0,group", "m2,received,1120.000,100,u0,group"],
      u2: ["m1,received,1020.000,100,u0,group", "m1,received,1021.000,100,u0,group"],
    },
  );
  try {
    const { summary } = await analyzeRunDir(dir);
    expect(summary.group).toMatchObject({
      messages: 2,
      expectedDeliveries: 4,
      deliveries: 3,
      lostDeliveries: 1,
      duplicateDeliveries: 1,
    });
    // The counts follow the group meaning: u2 never got m2, and got m1 twice.
    expect(summary.counts).toMatchObject({ sent: 2, received: 2, lost: 1, duplicated: 1 });
    expect(isLossy(summary)).toBe(true);
    const rows = Object.fromEntries(modeRows(summary));
    expect(rows["deliveries / expected"]).toBe("3 / 4");
    expect(rows["server CPU per delivery (µs)"]).toBe("100000");
    expect(rows["client CPU per delivery (µs)"]).toBe("200000");
    expect(formatRunTable(summary)).toContain("group messages/s");
    expect(renderRunReport(summary, [])).toContain("deliveries/s");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file run: time to complete and MB/s, shown in table and report", async () => {
  const mb = 1_000_000;
  const dir = await runDir(
    { mode: "file", clients: 2, fileBytes: 2 * mb },
    { file: { fileBytes: 2 * mb, rssKbBefore: { "srv-1": 1024 }, rssKbPeak: { "srv-1": 2048 } } },
    {
      u0: [`f1,sent,1000.000,${2 * mb},u1,file`, `f1,acked,1400.000,${2 * mb},u1,file`],
      u1: [`f1,received,1500.000,${2 * mb},u0,file`],
    },
  );
  try {
    const { summary } = await analyzeRunDir(dir);
    expect(summary.file).toMatchObject({ files: 1, completed: 1, mbPerSec: 4 });
    expect(summary.group).toBeUndefined();
    const rows = Object.fromEntries(modeRows(summary));
    expect(rows["time to complete p50 / max (ms)"]).toBe("500.0 / 500.0");
    expect(rows["RSS srv-1 at go → peak"]).toBe("1.0 MiB → 2.0 MiB");
    // 2 MB received = 1.907 MiB; 0.3 s of server CPU over it.
    expect(rows["server / database / client CPU per MiB (ms)"]).toBe("157.3 / 52.4 / 314.6");
    expect(formatRunTable(summary)).toContain("file MB/s (all files)");
    expect(renderRunReport(summary, [])).toContain("time to complete");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("group run: malformed groups in run.json are named", async () => {
  const dir = await runDir(
    { mode: "group", clients: 2, groupSize: 2, groupSenders: 1 },
    { groups: [{ name: "g", members: ["u0", 7] }] },
    { u0: [], u1: [] },
  );
  try {
    await expect(analyzeRunDir(dir)).rejects.toThrow(/groups\[0\] must be/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dm run: no mode accumulator, no extra rows", async () => {
  expect(await modeAccumulator("perf/testdata/clean")).toBeNull();
  const { summary } = await analyzeRunDir("perf/testdata/clean");
  expect(modeRows(summary)).toEqual([]);
});

Deno.test("cpuMicrosPerDelivery: summed over the named processes; NaN without data", () => {
  expect(cpuMicrosPerDelivery({ "srv-1": 1, "srv-2": 1, db: 5 }, "srv-", 4000)).toBe(500);
  expect(cpuMicrosPerDelivery(undefined, "srv-", 10)).toBeNaN();
  expect(cpuMicrosPerDelivery({ db: 1 }, "srv-", 10)).toBeNaN();
  expect(cpuMicrosPerDelivery({ "srv-1": 1 }, "srv-", 0)).toBeNaN();
});
