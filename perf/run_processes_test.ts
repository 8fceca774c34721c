import { expect } from "expect";
import { RunProcesses } from "./run_processes.ts";

Deno.test("RunProcesses: workers and perf itself without a cluster (--lb)", async () => {
  const procs = new RunProcesses({
    cluster: null,
    workers: () => [{ index: 0, pid: 11 }, { index: 1, pid: 12 }],
    dbUrl: "postgres://x@127.0.0.1:5432/db",
  });
  expect(procs.databaseFollowed).toBe(false);
  expect(await procs.list()).toEqual([
    { role: "worker", name: "worker-0", pid: 11 },
    { role: "worker", name: "worker-1", pid: 12 },
    { role: "perf", name: "perf", pid: Deno.pid },
  ]);
});
