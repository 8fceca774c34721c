import { expect } from "expect";
import { measureLoopbackFloor } from "./loopback_floor.ts";

Deno.test("measureLoopbackFloor echoes through a child process and accounts both sides", async () => {
  const f = await measureLoopbackFloor({ roundTrips: 3000, pauseMs: 0 });
  expect(f.roundTrips).toBe(3000);
  expect(f.wallMs).toBeGreaterThan(0);
  for (const side of [f.client, f.server]) {
    expect(Number.isFinite(side.userUs) && side.userUs >= 0).toBe(true);
    expect(Number.isFinite(side.sysUs) && side.sysUs >= 0).toBe(true);
  }
  // CPU is counted in 10 ms clock ticks, each given to whichever process runs
  // at the tick: 300 round trips got 3 or 4 here and once none in CI; 3,000
  // got 15 to 21, so none at all means that nothing was counted.
  expect(f.client.userUs + f.client.sysUs + f.server.userUs + f.server.sysUs).toBeGreaterThan(0);
});
