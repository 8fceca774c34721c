import { expect } from "expect";
import { parseProcStat, PROCESSES_CSV_HEADER, ProcessSampler } from "./process_sampler.ts";

Deno.test("parseProcStat: fields after the last parenthesis", () => {
  const line = "42 (a) b) c) S 1 2 3 4 5 6 7 8 9 10 150 50 0 0 20 0 9 0 777 999 2560 rest";
  expect(parseProcStat(line)).toEqual({
    userTicks: 150,
    sysTicks: 50,
    cpuTicks: 200,
    startTicks: 777,
    rssPages: 2560,
  });
  expect(parseProcStat("42 (deno) S 1 2")).toBeNull();
});

Deno.test("ProcessSampler: samples itself and a spawned process, by phase, until stopped", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/processes.csv`;
  // A child that burns CPU until its stdin closes.
  const spawnedAt = Date.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "const t = Date.now(); while (Date.now() - t < 400); await Deno.stdin.readable.cancel();",
    ],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const sampler = await ProcessSampler.start(path, () => [
      { role: "perf", name: "perf", pid: Deno.pid },
      { role: "worker", name: "worker-0", pid: child.pid },
      { role: "server", name: "gone", pid: 2 ** 30 }, // no such process: skipped
    ], { intervalMs: 20 });
    await sampler.phase("messaging");
    const status = child.status;
    await child.stdin.close();
    await status;
    await sampler.sample(); // the child has exited: only perf is sampled
    await sampler.stop();
    await sampler.stop(); // idempotent

    const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
    expect(lines[0]).toBe(PROCESSES_CSV_HEADER);
    const rows = lines.slice(1).map((l) => l.split(","));
    expect(rows.length).toBe(sampler.rows);
    expect(rows.every((r) => r.length === 9)).toBe(true);
    expect(rows.some((r) => r[3] === "gone")).toBe(false);
    const phases = new Set(rows.map((r) => r[1]));
    expect(phases).toEqual(new Set(["start", "messaging", "end"]));
    const own = rows.filter((r) => r[4] === String(Deno.pid));
    expect(own.length).toBeGreaterThanOrEqual(4);
    // Our own RSS is real, our CPU time never decreases.
    expect(Number(own[0][7])).toBeGreaterThan(10 * 1024 * 1024);
    for (let i = 1; i < own.length; i++) {
      expect(Number(own[i][6])).toBeGreaterThanOrEqual(Number(own[i - 1][6]));
      expect(Number(own[i][8])).toBeGreaterThanOrEqual(Number(own[i - 1][8]));
      expect(Number(own[i][0])).toBeGreaterThanOrEqual(Number(own[i - 1][0]));
    }
    // The kernel's part of the CPU is a part of it.
    expect(own.every((r) => Number(r[8]) >= 0 && Number(r[8]) <= Number(r[6]))).toBe(true);
    // The child's start time is on the run's clock (epoch ms, 10 ms ticks):
    // within a tick or two of its spawn (with btime's whole seconds, up to 1 s early).
    const kid = rows.filter((r) => r[4] === String(child.pid));
    expect(kid.length).toBeGreaterThan(0);
    expect(Number(kid[0][5])).toBeGreaterThanOrEqual(spawnedAt - 30);
    expect(Number(kid[0][5])).toBeLessThanOrEqual(spawnedAt + 200);
    expect(rows[rows.length - 1][1]).toBe("end");
    expect(rows[rows.length - 1][4]).toBe(String(Deno.pid));
  } finally {
    try {
      child.kill();
    } catch { /* exited */ }
    await Deno.remove(dir, { recursive: true });
  }
});
