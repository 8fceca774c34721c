import { expect } from "expect";
import {
  addShutdownCounters,
  batchingFigures,
  emptyServerCounters,
  formatServerCounters,
  readServerCounters,
} from "./server_counters.ts";

const line = (o: Record<string, unknown>) =>
  JSON.stringify({ ts: "2026-12-04T00:00:00Z", level: "info", event: "shutting_down", ...o });

Deno.test("server counters: sums the shutdown lines of every server log, skips the rest", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fastchat-counters-" });
  try {
    await Deno.mkdir(`${dir}/logs`);
    await Deno.writeTextFile(
      `${dir}/logs/srv-1.stderr.log`,
      [
        line({ event: "listening" }),
        line({ accepted: 60, forwarded: 30, socketWrites: 40, framesOut: 120, peerWrites: 5 }),
        '{"event":"shutting_down", cut by a kill',
        "",
      ].join("\n"),
    );
    await Deno.writeTextFile(
      `${dir}/logs/srv-2.stderr.log`,
      line({ accepted: 40, forwarded: 20, socketWrites: 10, framesOut: 30, peerFramesOut: 9 }),
    );
    // Not a server's log: the LB's and a worker's are ignored.
    await Deno.writeTextFile(`${dir}/logs/lb.stderr.log`, line({ accepted: 1000 }));
    await Deno.writeTextFile(`${dir}/logs/worker-0.log`, line({ accepted: 1000 }));
    const c = await readServerCounters(dir);
    expect(c).toMatchObject({
      servers: 2,
      accepted: 100,
      forwarded: 50,
      socketWrites: 50,
      framesOut: 150,
      peerWrites: 5,
      peerFramesOut: 9,
    });
    const f = batchingFigures(c!);
    expect(f.crossed).toBe(0.5);
    expect(f.writesPerMsg).toBeCloseTo(0.55);
    expect(f.framesPerWrite).toBe(3);
    expect(f.peerFramesPerWrite).toBeCloseTo(1.8);
    expect(formatServerCounters(c!)).toContain("forwarded to another server 50 (50.0 %)");
    expect(formatServerCounters(c!, 4 * c!.accepted)).toContain(
      `accepted ${c!.accepted} message frames (4.00 messages per frame)`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("server counters: null without logs or without a shutdown line", async () => {
  expect(await readServerCounters("/nonexistent-fastchat-run")).toBeNull();
  const dir = await Deno.makeTempDir({ prefix: "fastchat-counters-" });
  try {
    await Deno.mkdir(`${dir}/logs`);
    await Deno.writeTextFile(`${dir}/logs/srv-1.stderr.log`, line({ event: "listening" }));
    expect(await readServerCounters(dir)).toBeNull(); // killed: no counters
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const c = emptyServerCounters();
  expect(addShutdownCounters(c, "not json\n" + line({ accepted: "many" }))).toBe(1);
  expect(c.accepted).toBe(0); // only finite numbers count
  expect(batchingFigures(c).crossed).toBeNaN();
});
