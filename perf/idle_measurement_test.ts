import { expect } from "expect";
import { idleServerReadings, writeIdleRecord } from "./idle_measurement.ts";
import { idleReport } from "./idle_mode.ts";

Deno.test("idleServerReadings: before/after RSS and clients per server; NaN when unread", () => {
  const readings = idleServerReadings(
    [{ id: "srv-1", pid: 10 }, { id: "srv-2", pid: 11 }, { id: "srv-3", pid: 12 }],
    new Map([["srv-1", 50_000], ["srv-2", 51_000]]),
    new Map([["srv-1", 70_000], ["srv-3", 60_000]]),
    { "srv-1": 1000, "srv-3": 5 },
  );
  expect(readings).toEqual([
    { id: "srv-1", pid: 10, before: 50_000, after: 70_000, clients: 1000 },
    { id: "srv-2", pid: 11, before: 51_000, after: NaN, clients: 0 },
    { id: "srv-3", pid: 12, before: NaN, after: 60_000, clients: 5 },
  ]);
});

Deno.test("writeIdleRecord: idle.json as the report's JSON", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const report = idleReport([
      { id: "srv-1", pid: 10, before: 50_000, after: 70_000, clients: 1000 },
    ]);
    await writeIdleRecord(report, dir);
    expect(JSON.parse(await Deno.readTextFile(`${dir}/idle.json`))).toEqual(report);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("idleServerReadings: the at-login reading is kept beside the settled one", () => {
  const readings = idleServerReadings(
    [{ id: "srv-1", pid: 10 }],
    new Map([["srv-1", 60_000]]),
    new Map([["srv-1", 200_000]]),
    { "srv-1": 10_000 },
    new Map([["srv-1", 270_000]]),
  );
  expect(readings).toEqual([
    { id: "srv-1", pid: 10, before: 60_000, atLogin: 270_000, after: 200_000, clients: 10_000 },
  ]);
  const r = idleReport(readings);
  expect(r.servers[0].rssAtLoginKB).toBe(270_000);
  expect(r.total.kbPerConnection).toBe(14); // from the settled reading
});
