import { expect } from "expect";
import { HEARTBEAT_MS, LIVENESS_MS } from "./timing.ts";

Deno.test("timing: a server may miss a heartbeat or two (a GC pause, a slow query) and stay live", () => {
  expect(HEARTBEAT_MS).toBeGreaterThan(0);
  expect(LIVENESS_MS).toBeGreaterThanOrEqual(3 * HEARTBEAT_MS);
  // …but a dead one leaves the load balancers' choice within a few seconds.
  expect(LIVENESS_MS).toBeLessThanOrEqual(5_000);
});
