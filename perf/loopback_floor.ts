/**
 * The CPU a bare Deno process pays per message over loopback TCP: an echo
 * server in a child process and a client that sends 100-byte frames one at
 * a time, each after the echo of the one before, optionally pausing between
 * them so that both sides go idle (as every message does at 2,000 msgs/s
 * spread over 100 connections). User and system CPU of both processes come
 * from `/proc/<pid>/stat`, so the figure is the floor under any Deno chat
 * server or client on this machine: one read and one write per side and
 * nothing else.
 *
 * `deno run -A perf/loopback_floor.ts [--round-trips N] [--pause-ms MS]`
 * prints µs of CPU per round trip, user and system, for each side.
 *
 * @example
 * ```ts
 * import { measureLoopbackFloor } from "./loopback_floor.ts";
 * const f = await measureLoopbackFloor({ roundTrips: 1000, pauseMs: 0 });
 * console.log(f.server.userUs + f.server.sysUs, "µs per echo");
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { parseProcStat, readProcUnits } from "./process_sampler.ts";

/** CPU per round trip of one side, in µs. */
export interface SideCpu {
  userUs: number;
  sysUs: number;
}

/** What {@link measureLoopbackFloor} measured. */
export interface LoopbackFloor {
  roundTrips: number;
  pauseMs: number;
  /** Wall time of the timed round trips, ms. */
  wallMs: number;
  client: SideCpu;
  server: SideCpu;
}

const FRAME_BYTES = 100;

/** User and system CPU ticks of process `pid` so far (`/proc/<pid>/stat`). */
function cpuTicks(pid: number): { user: number; sys: number } {
  const st = parseProcStat(Deno.readTextFileSync(`/proc/${pid}/stat`));
  if (!st) throw new Error(`/proc/${pid}/stat is not readable as a process's stat`);
  return { user: st.userTicks, sys: st.sysTicks };
}

/**
 * Starts the echo server in a child process, runs `roundTrips` timed round
 * trips (after a short warm-up) with `pauseMs` between them, and returns
 * the CPU each side spent per round trip.
 *
 * @example
 * ```ts
 * import { measureLoopbackFloor } from "./loopback_floor.ts";
 * const idle = await measureLoopbackFloor({ roundTrips: 500, pauseMs: 1 });
 * console.log(idle.client.userUs, idle.client.sysUs);
 * ```
 */
export async function measureLoopbackFloor(
  opts: { roundTrips: number; pauseMs: number },
): Promise<LoopbackFloor> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", new URL(import.meta.url).pathname, "--echo"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  try {
    let line = "";
    const text = new TextDecoder();
    while (!line.includes("\n")) {
      const chunk = await reader.read();
      if (chunk.done) break;
      line += text.decode(chunk.value, { stream: true });
    }
    const port = Number(line.trim());
    if (!Number.isSafeInteger(port) || port <= 0) throw new Error(`echo server said ${port}`);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    const frame = new Uint8Array(FRAME_BYTES);
    const buf = new Uint8Array(64 * 1024);
    const roundTrip = async (): Promise<void> => {
      await conn.write(frame);
      for (let got = 0; got < FRAME_BYTES;) {
        const n = await conn.read(buf);
        if (n === null) throw new Error("echo server closed the connection");
        got += n;
      }
    };
    for (let i = 0; i < 200; i++) await roundTrip(); // JIT warm-up, not timed
    const { ticksPerSec } = await readProcUnits();
    const c0 = cpuTicks(Deno.pid);
    const s0 = cpuTicks(child.pid);
    const t0 = performance.now();
    for (let i = 0; i < opts.roundTrips; i++) {
      await roundTrip();
      if (opts.pauseMs > 0) await new Promise((r) => setTimeout(r, opts.pauseMs));
    }
    const wallMs = performance.now() - t0;
    const c1 = cpuTicks(Deno.pid);
    const s1 = cpuTicks(child.pid);
    conn.close();
    const per = (ticks: number): number => ticks * 1e6 / ticksPerSec / opts.roundTrips;
    return {
      roundTrips: opts.roundTrips,
      pauseMs: opts.pauseMs,
      wallMs,
      client: { userUs: per(c1.user - c0.user), sysUs: per(c1.sys - c0.sys) },
      server: { userUs: per(s1.user - s0.user), sysUs: per(s1.sys - s0.sys) },
    };
  } finally {
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    try {
      child.kill();
    } catch {
      // Already gone: the connection's close ended it.
    }
    await child.status;
  }
}

/** The child: echoes one connection's bytes back, one write per read. */
async function echo(): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(listener.addr.port);
  const conn = await listener.accept();
  listener.close();
  conn.setNoDelay(true);
  const buf = new Uint8Array(64 * 1024);
  for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
    await conn.write(buf.subarray(0, n));
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      echo: { type: "boolean", default: false },
      "round-trips": { type: "string", default: "20000" },
      "pause-ms": { type: "string", default: "0" },
    },
  });
  if (values.echo) await echo();
  else {
    const f = await measureLoopbackFloor({
      roundTrips: Number(values["round-trips"]),
      pauseMs: Number(values["pause-ms"]),
    });
    const side = (s: SideCpu): string =>
      `user ${s.userUs.toFixed(1)} + sys ${s.sysUs.toFixed(1)} = ${
        (s.userUs + s.sysUs).toFixed(1)
      } µs`;
    console.log(
      `${f.roundTrips} round trips of ${FRAME_BYTES} B, ${f.pauseMs} ms apart, in ${
        f.wallMs.toFixed(0)
      } ms\n  client (write, read): ${side(f.client)} per round trip\n  server (read, write): ${
        side(f.server)
      } per round trip`,
    );
  }
}
