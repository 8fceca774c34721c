import { expect } from "expect";
import { parseGcLog } from "./gc_trace.ts";
import { parseRunArgs } from "./run_config.ts";
import { WorkerHandle } from "./worker_handle.ts";
import { workerConfig } from "./worker_pool.ts";

Deno.test("WorkerHandle with a GC log: the worker's --trace-gc lines go to the file, the protocol still works", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fastchat-worker-gc-" });
  try {
    const cfg = workerConfig(
      parseRunArgs(["--clients", "2", "--messages", "1"]),
      0,
      { host: "127.0.0.1", port: 1 },
      dir,
    );
    const gcLog = `${dir}/worker-0.stdout.log`;
    // A 1 MiB young generation collects while the worker loads its modules.
    const w = new WorkerHandle(0, cfg, `${dir}/worker-0.log`, () => {}, [
      "--v8-flags=--max-semi-space-size=1,--min-semi-space-size=1",
    ], gcLog);
    const hello = await w.waitFor("hello");
    expect(hello.clients).toBe(2);
    await w.stop(10_000);
    expect(w.flushed).toBe(true);
    const events = parseGcLog(await Deno.readTextFile(gcLog));
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.pid === w.pid)).toBe(true);
    // GC lines are not kept as unexplained output.
    expect(w.tail.filter((l) => l.includes(" ms: Scavenge"))).toEqual([]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
