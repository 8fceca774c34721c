import { expect } from "expect";
import type { ClusterLauncher } from "@fastchat/server/cluster_launcher";
import { ConnectionLedger } from "./connection_ledger.ts";
import {
  killBusiestServer,
  killIsDue,
  placeLostMessages,
  reconnectRecord,
  writeReconnectRecord,
} from "./kill_one.ts";
import { CsvLog } from "./client_log.ts";
import { deliveryCheck, ReconnectTracker } from "./reconnect_mode.ts";

Deno.test("killIsDue: a quarter of the messages sent, or of the duration passed", () => {
  expect(killIsDue(249, 10_000, 1000, null)).toBe(false);
  expect(killIsDue(250, 0, 1000, null)).toBe(true);
  expect(killIsDue(10_000, 2499, null, 10_000)).toBe(false);
  expect(killIsDue(0, 2500, null, 10_000)).toBe(true);
});

Deno.test("killBusiestServer: kills the live server with most clients, tracked from before the kill", async () => {
  const servers = ["srv-1", "srv-2", "srv-3"].map((id) => ({ id, killed: id === "srv-3" }));
  const connections = new ConnectionLedger();
  for (const [u, s] of [["a", "srv-1"], ["b", "srv-2"], ["c", "srv-2"], ["d", "srv-3"]]) {
    connections.serverOf.set(u, s);
  }
  connections.serverOf.set("e", "srv-3");
  connections.serverOf.set("f", "srv-3");
  const killed: { id: string; trackedServer: string | undefined }[] = [];
  const cluster = {
    servers,
    kill: (id: string) => {
      killed.push({ id, trackedServer: connections.tracker?.server });
      return Promise.resolve();
    },
  } as unknown as ClusterLauncher;
  await killBusiestServer(cluster, connections);
  expect(killed).toEqual([{ id: "srv-2", trackedServer: "srv-2" }]);
  expect(connections.tracker!.summary()).toMatchObject({ server: "srv-2", users: ["b", "c"] });
});

Deno.test("placeLostMessages: each lost message relative to the kill", () => {
  const check = deliveryCheck([
    { id: "m1", event: "sent", user: "a", peer: "b", timeMs: 1500.0004 },
    { id: "m2", event: "sent", user: "c", peer: "a", timeMs: 900 },
    { id: "m3", event: "sent", user: "c", peer: "d", timeMs: 2000 },
    { id: "m3", event: "received", user: "d", peer: "c", timeMs: 2100 },
  ]);
  const summary = new ReconnectTracker("srv-1", ["a"], 1000).summary();
  const placed = placeLostMessages(check, summary);
  expect(placed.lostDetails).toEqual([
    {
      ...check.lostDetails[0],
      sentAfterKillMs: 500,
      fromOnKilledServer: true,
      toOnKilledServer: false,
    },
    {
      ...check.lostDetails[1],
      sentAfterKillMs: -100,
      fromOnKilledServer: false,
      toOnKilledServer: true,
    },
  ]);
  expect({ ...placed, lostDetails: [] }).toEqual({ ...check, lostDetails: [] });
  expect(Object.keys(placed)).toEqual(Object.keys(check));
});

Deno.test("reconnectRecord / writeReconnectRecord: summary plus the CSVs' delivery check", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tracker = new ReconnectTracker("srv-1", ["perf-x-0"], 1);
    // No CSVs readable: the check is null.
    expect((await reconnectRecord(tracker, dir)).messages).toBeNull();
    await Deno.mkdir(`${dir}/clients`);
    const a = await CsvLog.create(`${dir}/clients/perf-x-0.csv`);
    a.add("id1", "sent", 2.5, 100, "perf-x-1", "dm");
    await a.flush();
    const record = await reconnectRecord(tracker, dir);
    expect(record).toMatchObject({ server: "srv-1", clients: 1, messages: { sent: 1, lost: 1 } });
    expect(record.messages!.lostDetails[0]).toMatchObject({
      from: "perf-x-0",
      sentAfterKillMs: 1.5,
      fromOnKilledServer: true,
    });
    await writeReconnectRecord(record, dir);
    const text = await Deno.readTextFile(`${dir}/reconnect.json`);
    expect(text).toBe(JSON.stringify(record, null, 2) + "\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
