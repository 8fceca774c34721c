import { expect } from "expect";
import { EventLog } from "./event_log.ts";

type Ev = { event: string; n?: number };

Deno.test("EventLog: waits resolve on the event that completes them, or at once", async () => {
  const log = new EventLog<Ev>();
  log.push({ event: "a", n: 1 });
  expect((await log.waitFor((e) => e.event === "a")).n).toBe(1);
  const two = log.waitForCount((e) => e.event === "b", 2);
  log.push({ event: "b", n: 1 });
  log.push({ event: "c" });
  log.push({ event: "b", n: 2 });
  expect((await two).map((e) => e.n)).toEqual([1, 2]);
  expect(log.events.length).toBe(4);
});

Deno.test("EventLog: a wait times out with the count and the last events seen", async () => {
  const log = new EventLog<Ev>();
  log.push({ event: "x" });
  await expect(log.waitForCount((e) => e.event === "y", 2, 20)).rejects.toThrow(
    'timed out: 0/2 matching events; last: [{"event":"x"}]',
  );
  // the timed-out waiter is gone: a later push does not resolve anything twice
  const y = log.waitFor((e) => e.event === "y", 1_000);
  log.push({ event: "y" });
  expect((await y).event).toBe("y");
});
