import { expect } from "expect";
import {
  addWorkerSockets,
  formatWorkerSockets,
  readWorkerSockets,
  type WorkerSockets,
} from "./worker_socket_stats.ts";

const empty = (): WorkerSockets => ({ workers: 0, reads: 0, writes: 0, framesIn: 0, framesOut: 0 });
const line = (messaging: unknown) =>
  JSON.stringify({
    event: "socket_stats",
    reads: 900,
    writes: 900,
    framesIn: 900,
    framesOut: 900,
    messaging,
  });

Deno.test("addWorkerSockets: sums the messaging counters, skips what is not one", () => {
  const s = empty();
  const text = [
    '{"event":"ready"}',
    line({ reads: 10, writes: 20, framesIn: 15, framesOut: 22 }),
    line(null), // an --idle worker: no messaging phase
    '{"event":"socket_stats","reads":5,"writes":5,"framesIn":5,"framesOut":5}', // older runs
    line({ reads: 1, writes: "2", framesIn: 3, framesOut: 4 }),
    line({ reads: 1, writes: 2, framesIn: 3, framesOut: 4 }).slice(0, 40), // cut by a kill
    "not json socket_stats",
    line({ reads: 5, writes: 10, framesIn: 5, framesOut: 11 }),
  ].join("\n");
  expect(addWorkerSockets(s, text)).toBe(2);
  expect(s).toEqual({ workers: 2, reads: 15, writes: 30, framesIn: 20, framesOut: 33 });
});

Deno.test("readWorkerSockets: every worker's log of a run; null without one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    expect(await readWorkerSockets(dir)).toBeNull();
    await Deno.mkdir(`${dir}/logs`);
    await Deno.writeTextFile(
      `${dir}/logs/srv-1.stderr.log`,
      line({ reads: 1, writes: 1, framesIn: 1, framesOut: 1 }),
    );
    expect(await readWorkerSockets(dir)).toBeNull();
    await Deno.writeTextFile(
      `${dir}/logs/worker-0.log`,
      line({ reads: 100, writes: 80, framesIn: 120, framesOut: 88 }) + "\n",
    );
    await Deno.writeTextFile(
      `${dir}/logs/worker-1.log`,
      "starting\n" + line({ reads: 110, writes: 90, framesIn: 130, framesOut: 99 }),
    );
    await Deno.writeTextFile(
      `${dir}/logs/worker-1.stdout.log`,
      line({ reads: 1, writes: 1, framesIn: 1, framesOut: 1 }),
    );
    const s = await readWorkerSockets(dir);
    expect(s).toEqual({ workers: 2, reads: 210, writes: 170, framesIn: 250, framesOut: 187 });
    expect(formatWorkerSockets(s!, 100)).toBe(
      'load workers (2, from "go" until they stop, from their socket counters): socket writes per ' +
        "message received 1.70 (1.10 frames per write), reads per message 2.10 (1.19 frames per read)",
    );
    expect(formatWorkerSockets(s!, 0)).toContain("socket writes per message received — (1.10");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
