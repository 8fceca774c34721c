import { expect } from "expect";
import { RunAbort } from "./run_abort.ts";
import { parseRunArgs } from "./run_config.ts";
import { workerConfig, workerDenoFlags, WorkerPool } from "./worker_pool.ts";

const LB = { host: "127.0.0.1", port: 7700 };

Deno.test("workerConfig: the run's settings for one worker", () => {
  const cfg = parseRunArgs([
    "--clients",
    "10",
    "--messages",
    "50",
    "--workers",
    "3",
    "--seed",
    "s1",
    "--rate",
    "500/s",
    "--payload",
    "1KiB",
    "--identity-pool",
    "4",
  ]);
  expect(workerConfig(cfg, 2, LB, "/tmp/run")).toEqual({
    worker: 2,
    workers: 3,
    clients: 10,
    peers: null,
    seed: "s1",
    lb: LB,
    kdfIterations: cfg.kdfIterations,
    identityPool: 4,
    send: { kind: "rate", perSecond: 500 },
    payloadBytes: 1024,
    messages: 50,
    durationMs: null,
    runDir: "/tmp/run",
    idle: false,
    mode: "dm",
    groupSize: null,
    groupSenders: null,
    fileBytes: null,
    driver: "client",
    heapSample: false,
    heapSurvivors: false,
  });
  const bounded = parseRunArgs(["--clients", "10", "--messages", "1", "--peers", "3"]);
  expect(workerConfig(bounded, 0, LB, "/r").peers).toBe(3);
  const idle = workerConfig(parseRunArgs(["--idle", "100", "--workers", "2"]), 0, LB, "/r");
  expect(idle).toMatchObject({ idle: true, clients: 100, messages: null });
});

Deno.test("workerDenoFlags: the servers' heap setting, a CPU profile per worker with --cpu-prof only", () => {
  expect(workerDenoFlags(false, "/tmp/run", 1)).toEqual([
    "--v8-flags=--max-semi-space-size=16,--initial-old-space-size=128,--no-allocation-site-pretenuring,--no-memory-reducer",
  ]);
  expect(workerDenoFlags(true, "/tmp/run", 1)).toEqual([
    "--v8-flags=--max-semi-space-size=16,--initial-old-space-size=128,--no-allocation-site-pretenuring,--no-memory-reducer",
    "--cpu-prof",
    "--cpu-prof-dir=/tmp/run/profiles",
    "--cpu-prof-name=worker-1.cpuprofile",
  ]);
});

Deno.test("WorkerPool: before spawning, no workers and nothing done", async () => {
  const cfg = parseRunArgs(["--clients", "4", "--messages", "1"]);
  const pool = new WorkerPool(cfg, "/tmp/run", new RunAbort(), () => {});
  expect(pool.size).toBe(0);
  expect(pool.progress()).toMatchObject({ sent: 0, allDone: false });
  expect(pool.describe()).toEqual([]);
  expect(await pool.cpuSeconds()).toEqual({});
  expect(await pool.waitAll("hello")).toEqual([]);
});
