import { expect } from "expect";
import { turnNow } from "./turn_clock.ts";

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* spin */ }
}

Deno.test("turn clock: one reading per turn, a fresh one after a microtask checkpoint", async () => {
  const first = turnNow();
  busyWait(3);
  expect(turnNow()).toBe(first); // same turn, though time went on
  await Promise.resolve();
  const second = turnNow();
  expect(second).toBeGreaterThanOrEqual(first + 3);
  busyWait(2);
  await new Promise((r) => setTimeout(r, 0)); // a macrotask later
  expect(turnNow()).toBeGreaterThanOrEqual(second + 2);
});

Deno.test("turn clock: microtasks queued before the first read share its reading", async () => {
  // The reset is queued when the turn first reads: earlier microtasks run first and
  // (still in the same checkpoint) share the reading; it is never older than that checkpoint.
  let inMicrotask = -1;
  queueMicrotask(() => inMicrotask = turnNow());
  const now = turnNow();
  await Promise.resolve();
  expect(inMicrotask).toBe(now);
  busyWait(2);
  expect(turnNow()).toBeGreaterThanOrEqual(now + 2);
});
