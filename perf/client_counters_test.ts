import { expect } from "expect";
import { addCounters, zeroCounters } from "./client_counters.ts";

Deno.test("addCounters: counts add up, last-event times take the latest", () => {
  const total = zeroCounters();
  addCounters(total, { ...zeroCounters(), sent: 3, acked: 2, failed: 1, lastSendMs: 50 });
  addCounters(total, { ...zeroCounters(), sent: 1, received: 4, lastSendMs: 20, lastRecvMs: 70 });
  expect(total).toEqual({
    sent: 4,
    acked: 2,
    received: 4,
    delivered: 0,
    errors: 0,
    failed: 1,
    lastSendMs: 50,
    lastRecvMs: 70,
  });
});
