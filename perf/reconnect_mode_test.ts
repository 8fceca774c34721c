import { expect } from "expect";
import { CsvLog } from "./client_log.ts";
import {
  checkClientLogs,
  chooseVictim,
  deliveryCheck,
  ReconnectTracker,
} from "./reconnect_mode.ts";

Deno.test("chooseVictim: the server with most clients, ties by id", () => {
  const of = new Map([["a", "srv-2"], ["b", "srv-1"], ["c", "srv-2"], ["d", "srv-1"]]);
  expect(chooseVictim(of)).toEqual({ server: "srv-1", users: ["b", "d"] });
  of.set("e", "srv-2");
  expect(chooseVictim(of)).toEqual({ server: "srv-2", users: ["a", "c", "e"] });
  // Only live candidates; a candidate without clients can still be chosen.
  expect(chooseVictim(of, ["srv-1"])).toEqual({ server: "srv-1", users: ["b", "d"] });
  expect(chooseVictim(new Map(), ["srv-3"])).toEqual({ server: "srv-3", users: [] });
  expect(chooseVictim(new Map())).toBeNull();
});

Deno.test("ReconnectTracker: recovery is the last client back", async () => {
  const t = new ReconnectTracker("srv-1", ["a", "b", "c"], 1000);
  const back = t.waitAllBack();
  t.disconnected("a", 1002);
  t.disconnected("b", 1003);
  t.disconnected("x", 1001); // not on the killed server
  t.reconnected("a", 1100, "srv-2");
  t.reconnected("b", 1500, "srv-3");
  expect(t.allBack).toBe(false);
  expect(t.summary().recoveryMs).toBeNull();
  t.reconnected("a", 1900, "srv-2"); // a second reconnect does not count
  t.reconnected("c", 1300, "srv-2");
  await back;
  const s = t.summary();
  expect(s).toMatchObject({
    server: "srv-1",
    clients: 3,
    disconnected: 2,
    reconnected: 3,
    allReconnected: true,
    recoveryMs: 500,
    reconnectedTo: { "srv-2": 2, "srv-3": 1 },
  });
  expect(s.reconnectMs).toEqual({ p50: 300, p90: 500, max: 500 });
  expect(s.detectMs).toEqual({ p50: 2, max: 3 });
});

Deno.test("deliveryCheck: lost and duplicated ids", () => {
  const r = deliveryCheck([
    { id: "m1", event: "sent" },
    { id: "m1", event: "acked" },
    { id: "m1", event: "received" },
    { id: "m2", event: "sent" },
    { id: "m3", event: "sent" },
    { id: "m3", event: "received" },
    { id: "m3", event: "received" },
    { id: "m3", event: "received" },
    { id: "m9", event: "received" }, // from an earlier run: ignored for loss
  ]);
  expect(r).toEqual({
    sent: 3,
    received: 2,
    lost: 1,
    duplicated: 1,
    duplicateRows: 2,
    lostIds: ["m2"],
    duplicatedIds: ["m3"],
    lostDetails: [{ id: "m2", from: "", to: "", sentMs: NaN, acked: false, error: null }],
  });
});

Deno.test("checkClientLogs: reads the client logs written by CsvLog", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/clients`);
    const a = await CsvLog.create(`${dir}/clients/perf-x-0.csv`);
    const b = await CsvLog.create(`${dir}/clients/perf-x-1.csv`);
    a.add("id1", "sent", 1.5, 100, "perf-x-1", "dm");
    a.add("id2", "sent", 2.5, 100, "perf-x-1", "dm");
    a.add("", "error", 3, "", "perf-x-1", "NOT_CONNECTED");
    b.add("id1", "received", 4.25, 100, "perf-x-0", "dm");
    await a.flush();
    await b.flush();
    b.add("id1", "received", 5, 100, "perf-x-0", "dm");
    await b.flush();
    const text = await Deno.readTextFile(`${dir}/clients/perf-x-0.csv`);
    expect(text.split("\n")[0]).toBe("message_id,event,time_ms,bytes,peer,kind");
    expect(text).toContain("id1,sent,1.500,100,perf-x-1,dm");
    expect(text).toContain(",error,3.000,,perf-x-1,NOT_CONNECTED");
    a.add("id2", "acked", 2.75, 100, "perf-x-1", "dm");
    await a.flush();
    const r = await checkClientLogs(dir);
    expect(r).toMatchObject({ sent: 2, received: 1, lost: 1, duplicated: 1, lostIds: ["id2"] });
    expect(r.lostDetails).toEqual([
      { id: "id2", from: "perf-x-0", to: "perf-x-1", sentMs: 2.5, acked: true, error: null },
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkClientLogs: the lossy test run", async () => {
  const r = await checkClientLogs(new URL("./testdata/lossy", import.meta.url).pathname);
  expect(r).toMatchObject({ sent: 6, received: 4, lost: 2, duplicated: 1, duplicateRows: 1 });
  expect(r.lostDetails.map((m) => [m.id, m.error])).toEqual([["m5", null], [
    "m6",
    "DECRYPT_FAILED",
  ]]);
});
