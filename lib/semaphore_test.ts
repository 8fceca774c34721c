import { expect } from "expect";
import { FastChatError } from "./errors.ts";
import { Semaphore } from "./semaphore.ts";

Deno.test("Semaphore: at most `max` run at once, waiters run in order", async () => {
  const s = new Semaphore(2);
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  const gates = Array.from({ length: 5 }, () => Promise.withResolvers<void>());
  const tasks = gates.map((g, i) =>
    s.run(async () => {
      running++;
      peak = Math.max(peak, running);
      order.push(i);
      await g.promise;
      running--;
      return i;
    })
  );
  await Promise.resolve();
  expect(s.active).toBe(2);
  expect(s.waiting).toBe(3);
  for (const g of gates) g.resolve();
  expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3, 4]);
  expect(order).toEqual([0, 1, 2, 3, 4]);
  expect(peak).toBe(2);
  expect(s.active).toBe(0);
});

Deno.test("Semaphore: a full wait queue refuses with RATE_LIMITED and runs nothing", async () => {
  const s = new Semaphore(1, 1);
  const gate = Promise.withResolvers<void>();
  const first = s.run(() => gate.promise);
  const second = s.run(() => Promise.resolve("second"));
  let ran = false;
  const err = await s.run(() => {
    ran = true;
    return Promise.resolve();
  }).catch((e) => e);
  expect(err).toBeInstanceOf(FastChatError);
  expect((err as FastChatError).code).toBe("RATE_LIMITED");
  expect(ran).toBe(false);
  gate.resolve();
  await first;
  expect(await second).toBe("second");
});

Deno.test("Semaphore: a failing task frees its slot", async () => {
  const s = new Semaphore(1);
  await expect(s.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
  expect(await s.run(() => Promise.resolve(7))).toBe(7);
  expect(s.active).toBe(0);
  expect(() => new Semaphore(0)).toThrow(FastChatError);
});
