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

Deno.test("Supervisor: a child that stayed up for stableMs restarts at the initial delay again", async () => {
  const lines: string[] = [];
  const sup = new Supervisor({
    // Each run lasts 150 ms ≥ stableMs: every crash counts as the first.
    policy: { initialDelayMs: 10, maxDelayMs: 10_000, stableMs: 100 },
    log: (l) => lines.push(l),
  });
  try {
    const c = await sup.start(child("stable", 150));
    for (let i = 0; i < 3; i++) await c.nextStart();
  } finally {
    await sup.stopAll();
  }
  const crashes = lines.filter((l) => l.startsWith("stable exited (code 3)"));
  expect(crashes.length).toBeGreaterThanOrEqual(3);
  for (const l of crashes) expect(l).toContain("failure 1 in a row");
  for (const l of crashes) expect(Number(l.match(/restarting in (\d+) ms/)![1])).toBeLessThan(13);
});

Deno.test("Supervisor: a child that fails to become ready is retried with backoff, not spun", async () => {
  const lines: string[] = [];
  let threeFailed!: () => void;
  const failedThrice = new Promise<void>((resolve) => threeFailed = resolve);
  const sup = new Supervisor({
    policy: { initialDelayMs: 20, maxDelayMs: 40, stableMs: 60_000 },
    log: (l) => {
      lines.push(l);
      if (lines.filter((l) => l.startsWith("broken failed to start:")).length === 3) threeFailed();
    },
  });
  const dir = await Deno.makeTempDir();
  const flag = `${dir}/broken`;
  try {
    // Ready once; after that it exits before printing its ready line while `flag` exists.
    const script = `try { Deno.statSync(${JSON.stringify(flag)}); Deno.exit(4); } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e; }
      console.log("ready " + Deno.pid); setInterval(() => {}, 1000);`;
    const c = await sup.start({ name: "broken", args: ["eval", script], ready: /ready (\d+)/ });
    await Deno.writeTextFile(flag, "");
    c.process.kill("SIGKILL");
    const restarted = c.nextStart();
    // Wait until three starts in a row failed, then let it start again.
    await failedThrice;
    await Deno.remove(flag);
    await restarted;
    expect(c.restarts).toBe(1);
    const delays = lines.filter((l) => l.includes("restarting in"))
      .map((l) => Number(l.match(/restarting in (\d+) ms/)![1]));
    // 20, 40, 40 … (±20 %): the failures in a row keep counting, the delay stays capped.
    expect(delays.length).toBeGreaterThanOrEqual(4);
    expect(delays[1]).toBeGreaterThanOrEqual(32);
    for (const d of delays) expect(d).toBeLessThanOrEqual(48);
    expect(lines.filter((l) => l.includes("failure 1 in a row")).length).toBe(1);
    expect(lines).toContainEqual(expect.stringMatching(/^broken failed to start; restarting in/));
  } finally {
    await sup.stopAll();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Supervisor: a child that becomes ready while stopAll runs is stopped, not orphaned", async () => {
  const sup = new Supervisor({ log: () => {} });
  const script = `setTimeout(() => console.log("ready " + Deno.pid), 300);
    setInterval(() => {}, 1000);`;
  const starting = sup.start({ name: "late", args: ["eval", script], ready: /ready (\d+)/ });
  await sup.stopAll();
  await expect(starting).rejects.toMatchObject({ code: "SERVER_SHUTTING_DOWN" });
  expect(sup.children).toEqual([]);
});
