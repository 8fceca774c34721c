import { expect } from "expect";
import { ConnectionLedger } from "./connection_ledger.ts";
import type { WorkerProgress } from "./worker_protocol.ts";
import { workerProgress } from "./worker_protocol.ts";
import { parseRunArgs } from "./run_config.ts";
import { type RunFacts, runRecord, writeRunRecord } from "./run_record.ts";
import { readRunRecord } from "./run_schema.ts";

const final = (p: Partial<WorkerProgress>): WorkerProgress =>
  workerProgress({ doneSending: true, ...p });

function facts(over: Partial<RunFacts> = {}): RunFacts {
  const args = ["--clients", "4", "--messages", "20", "--seed", "s1"];
  const connections = new ConnectionLedger();
  connections.serverOf.set("perf-s1-0", "srv-2");
  connections.serverOf.set("perf-s1-1", "srv-1");
  connections.serverOf.set("perf-s1-2", "srv-2");
  connections.serverAddress.set("srv-2", "127.0.0.1:7002");
  connections.serverAddress.set("srv-1", "127.0.0.1:7001");
  connections.disconnects = 2;
  connections.disconnectCodes["messaging:1006"] = 2;
  connections.reconnects = 1;
  return {
    cfg: parseRunArgs(args),
    startedAt: new Date("2025-01-02T03:04:05.000Z"),
    endedAt: new Date("2025-01-02T03:05:00.000Z"),
    interrupted: false,
    failure: null,
    phases: {
      register: { count: 4, ms: 100, perSecond: 40 },
      login: { count: 4, ms: 50, perSecond: 80 },
      messaging: {
        startMs: 1000,
        endMs: 3000,
        lastSendMs: 2900,
        completed: true,
        drainTimedOut: false,
        cpuSeconds: {},
      },
    },
    final: final({ sent: 80, acked: 80, received: 79, delivered: 78, failed: 0, errors: 1 }),
    connections,
    workers: [{ index: 0, pid: 100 }, { index: 1, pid: 101 }],
    cluster: {
      servers: [
        { id: "srv-1", address: "127.0.0.1:7001", pid: 11, killed: false },
        { id: "srv-2", address: "127.0.0.1:7002", pid: 12, killed: true },
      ],
      lbAddress: "127.0.0.1:7700",
      lbPid: 9,
      dbPid: 8,
    },
    idle: null,
    reconnect: null,
    ...over,
  };
}

Deno.test("runRecord: a started cluster's run, fields in order", () => {
  const r = runRecord(facts());
  expect(Object.keys(r)).toEqual([
    "config",
    "versions",
    "machine",
    "startedAt",
    "endedAt",
    "interrupted",
    "phases",
    "results",
    "workers",
    "clientsPerServer",
    "lb",
    "db",
    "servers",
  ]);
  expect(r.config).toMatchObject({ clients: 4, messages: 20, seed: "s1", lb: null });
  expect(r.config.args).toEqual(["--clients", "4", "--messages", "20", "--seed", "s1"]);
  expect(Object.keys(r.config).at(-1)).toBe("args");
  expect(r.versions.deno).toBe(Deno.version.deno);
  expect(r.machine.cores).toBe(navigator.hardwareConcurrency);
  expect(r.startedAt).toBe("2025-01-02T03:04:05.000Z");
  expect(r.phases).toMatchObject({ register: { count: 4 }, warmup: null });
  expect(r.results).toEqual({
    sent: 80,
    acked: 80,
    received: 79,
    delivered: 78,
    missing: 1,
    failed: 0,
    errors: 1,
    msgsPerSec: 39.5,
    disconnects: 2,
    disconnectCodes: { "messaging:1006": 2 },
    reconnects: 1,
  });
  expect(r.clientsPerServer).toEqual({ "srv-2": 2, "srv-1": 1 });
  expect(r.lb).toEqual({ address: "127.0.0.1:7700", pid: 9, rate: 0 });
  expect(r.db).toEqual({ kind: "embedded-memory", pid: 8 });
  expect(r.servers[1]).toEqual({ id: "srv-2", address: "127.0.0.1:7002", pid: 12, killed: true });
});

Deno.test("runRecord: the host check, after the machine, when it ran", () => {
  const hostStalls = {
    threads: 2,
    durationMs: 2000,
    over1Ms: 12,
    over2Ms: 7,
    over10Ms: 1,
    longestMs: 36.08,
    stalledPercent: 0.62,
  };
  const r = runRecord({ ...facts(), hostStalls });
  expect(Object.keys(r).slice(2, 5)).toEqual(["machine", "hostStalls", "startedAt"]);
  expect(r.hostStalls).toEqual(hostStalls);
  expect("hostStalls" in runRecord({ ...facts(), hostStalls: null })).toBe(false);
});

Deno.test("runRecord: --lb run: servers from the clients' reports, external database", () => {
  const args = ["--clients", "4", "--messages", "20", "--lb", "10.0.0.1:7700"];
  const r = runRecord(facts({ cfg: parseRunArgs(args), cluster: null }));
  expect(r.config.lb).toBe("10.0.0.1:7700");
  expect(r.lb).toEqual({ address: "10.0.0.1:7700", pid: null });
  expect(r.db).toEqual({ kind: "external" });
  expect(r.servers).toEqual([
    { id: "srv-1", address: "127.0.0.1:7001", pid: null, killed: false },
    { id: "srv-2", address: "127.0.0.1:7002", pid: null, killed: false },
  ]);
});

Deno.test("runRecord: failure, no results, idle and reconnect reports", () => {
  const failed = runRecord(facts({ failure: new Error("worker 0 exited"), final: null }));
  expect(failed).toMatchObject({ error: "worker 0 exited", results: null });
  expect(Object.keys(failed).indexOf("error")).toBe(Object.keys(failed).indexOf("interrupted") + 1);
  const noMessaging = runRecord(facts({ phases: {} }));
  expect(noMessaging.results?.msgsPerSec).toBe(0);
  expect(noMessaging.phases).toEqual({
    register: null,
    login: null,
    warmup: null,
    messaging: null,
  });
  const idle = { servers: [], total: { clients: 0, rssDeltaKB: 0, kbPerConnection: null } };
  const withIdle = runRecord(facts({ idle }));
  expect(Object.keys(withIdle).at(-1)).toBe("idle");
  expect(withIdle.idle).toBe(idle);
  expect("reconnect" in withIdle).toBe(false);
});

Deno.test("writeRunRecord: run.json, pretty-printed; readRunRecord reads it back", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = runRecord(facts());
    await writeRunRecord(r, dir);
    const text = await Deno.readTextFile(`${dir}/run.json`);
    expect(text).toBe(JSON.stringify(r, null, 2) + "\n");
    expect(await readRunRecord(dir)).toEqual(JSON.parse(text));
    const lb = runRecord(facts({ cfg: parseRunArgs(["--idle", "3"]), phases: {}, final: null }));
    await writeRunRecord(lb, dir);
    expect(await readRunRecord(dir)).toEqual(JSON.parse(JSON.stringify(lb)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
