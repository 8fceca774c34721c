import { expect } from "expect";
import { restartDelay, Supervisor } from "./supervisor.ts";

/** A child that prints `ready <pid>`, then exits with `code` after `ms` (never if < 0). */
function child(name: string, ms: number, code = 3) {
  const script = `console.log("ready " + Deno.pid);
    ${ms >= 0 ? `setTimeout(() => Deno.exit(${code}), ${ms});` : "setInterval(() => {}, 1000);"}`;
  return { name, args: ["eval", script], ready: /ready (\d+)/ };
}

Deno.test("restartDelay doubles from the initial delay, is capped, and jitters ±20 %", () => {
  const p = { initialDelayMs: 100, maxDelayMs: 1000, stableMs: 60_000 };
  expect([1, 2, 3, 4, 5, 6].map((n) => restartDelay(p, n, () => 0.5)))
    .toEqual([100, 200, 400, 800, 1000, 1000]);
  expect(restartDelay(p, 1, () => 0)).toBe(80);
  expect(restartDelay(p, 1, () => 1)).toBe(120);
});

Deno.test("Supervisor restarts a crashing child with growing delays; the others keep running", async () => {
  const lines: string[] = [];
  const sup = new Supervisor({
    policy: { initialDelayMs: 20, maxDelayMs: 80, stableMs: 60_000 },
    log: (l) => lines.push(l),
  });
  try {
    const steady = await sup.start(child("steady", -1));
    const steadyPid = steady.process.pid;
    const flaky = await sup.start(child("flaky", 0));
    const firstPid = flaky.process.pid;
    for (let i = 0; i < 4; i++) await flaky.nextStart();
    expect(flaky.restarts).toBeGreaterThanOrEqual(4);
    expect(flaky.process.pid).not.toBe(firstPid);
    const delays = lines.filter((l) => l.startsWith("flaky exited (code 3)"))
      .map((l) => Number(l.match(/restarting in (\d+) ms/)![1]));
    expect(delays.length).toBeGreaterThanOrEqual(4);
    // 20, 40, 80, 80 … each ±20 %: growing, then capped
    expect(delays[0]).toBeLessThanOrEqual(24);
    expect(delays[2]).toBeGreaterThanOrEqual(64);
    for (const d of delays) expect(d).toBeLessThanOrEqual(96);
    expect(lines.some((l) => l.startsWith("flaky restarted (pid "))).toBe(true);
    // the other child was never touched
    expect(steady.process.pid).toBe(steadyPid);
    expect(steady.process.done).toBe(false);
    expect(steady.restarts).toBe(0);
  } finally {
    await sup.stopAll();
  }
  expect(sup.children.every((c) => c.process.done)).toBe(true);
});

Deno.test("Supervisor: stopAll cancels a pending restart and stops in reverse start order", async () => {
  const lines: string[] = [];
  const sup = new Supervisor({
    policy: { initialDelayMs: 600_000, maxDelayMs: 600_000, stableMs: 60_000 },
    log: (l) => lines.push(l),
  });
  const first = await sup.start(child("first", -1));
  const second = await sup.start(child("second", -1));
  const crashed = first.process.exited;
  first.process.kill("SIGKILL");
  await crashed;
  const order: string[] = [];
  first.process.exited.then(() => order.push("first"));
  second.process.exited.then(() => order.push("second"));
  // The supervisor is now waiting ten minutes to restart `first`: stopAll must not wait.
  await sup.stopAll(5_000);
  expect(lines.filter((l) => l.includes("restarting in"))).toEqual([
    expect.stringContaining("first exited (signal SIGKILL)"),
  ]);
  expect(first.restarts).toBe(0);
  expect(second.process.done).toBe(true);
  expect(order).toEqual(["first", "second"]); // first had already exited; second stopped
});
