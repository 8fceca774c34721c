import { expect } from "expect";
import { measureLoopbackFloor } from "./loopback_floor.ts";

Deno.test("measureLoopbackFloor echoes through a child process and accounts both sides", async () => {
  const f = await measureLoopbackFloor({ roundTrips: 300, pauseMs: 0 });
  expect(f.roundTrips).toBe(300);
  expect(f.wallMs).toBeGreaterThan(0);
  for (const side of [f.client, f.server]) {
    expect(Number.isFinite(side.userUs) && side.userUs >= 0).toBe(true);
    expect(Number.isFinite(side.sysUs) && side.sysUs >= 0).toBe(true);
  }
  // 300 round trips cost at least one 10 ms clock tick between the two processes.
  expect(f.client.userUs + f.client.sysUs + f.server.userUs + f.server.sysUs).toBeGreaterThan(0);
});
