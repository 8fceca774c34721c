/**
 * The counters each chat server logs when it stops (its `shutting_down`
 * line in `logs/<server>.stderr.log`): messages accepted from its clients,
 * delivered to them and forwarded to other servers, socket reads and
 * writes and frames, on client connections and on peer links. Whole-run
 * figures (register, login and a key warm-up included), summed over the
 * servers that stopped cleanly (a killed server logs none).
 *
 * From them: the share of messages that crossed to another server, and
 * the writes and frames per message, which say how well writes were
 * batched: what `perf:sweep` needs to tell the cost of the mesh hop from
 * the cost of smaller batches when each of more servers carries less.
 *
 * @example
 * ```ts
 * import { readServerCounters } from "./server_counters.ts";
 * const c = await readServerCounters("perf/out/my-run");
 * if (c) console.log(c.forwarded / c.accepted); // share of messages that crossed servers
 * ```
 * @module
 */
import { join } from "node:path";

/** Counter names summed from the `shutting_down` lines. */
export const SERVER_COUNTER_NAMES = [
  "accepted",
  "delivered",
  "forwarded",
  "socketReads",
  "socketWrites",
  "framesIn",
  "framesOut",
  "peerReads",
  "peerWrites",
  "peerFramesIn",
  "peerFramesOut",
] as const;

/**
 * The servers' counters, summed; `servers` is how many logged them.
 *
 * @example
 * ```ts
 * import type { ServerCounters } from "./server_counters.ts";
 * declare const c: ServerCounters;
 * console.log((c.socketWrites + c.peerWrites) / c.accepted); // writes per message
 * ```
 */
export type ServerCounters =
  & { servers: number }
  & Record<typeof SERVER_COUNTER_NAMES[number], number>;

/**
 * Sums the counters of the `shutting_down` lines in `text` (JSON lines;
 * other lines are skipped) into `into`; returns how many lines it took.
 *
 * @example
 * ```ts
 * import { addShutdownCounters, emptyServerCounters } from "./server_counters.ts";
 * const c = emptyServerCounters();
 * addShutdownCounters(c, '{"event":"shutting_down","accepted":10,"forwarded":4}\nnot json\n');
 * console.log(c.accepted, c.forwarded, c.servers); // 10 4 1
 * ```
 */
export function addShutdownCounters(into: ServerCounters, text: string): number {
  let n = 0;
  for (const line of text.split("\n")) {
    if (!line.includes('"shutting_down"')) continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line);
    } catch {
      continue; // a line cut by a kill: not a counter line
    }
    if (o.event !== "shutting_down") continue;
    for (const k of SERVER_COUNTER_NAMES) {
      const v = o[k];
      if (typeof v === "number" && Number.isFinite(v)) into[k] += v;
    }
    into.servers++;
    n++;
  }
  return n;
}

/**
 * All counters zero.
 *
 * @example
 * ```ts
 * import { emptyServerCounters } from "./server_counters.ts";
 * emptyServerCounters().servers; // 0
 * ```
 */
export function emptyServerCounters(): ServerCounters {
  const c = { servers: 0 } as ServerCounters;
  for (const k of SERVER_COUNTER_NAMES) c[k] = 0;
  return c;
}

/**
 * Reads `<runDir>/logs/*.stderr.log` of the servers (`srv-<n>`); null when
 * no server logged its counters (an older run, or every server killed).
 *
 * @example
 * ```ts
 * import { readServerCounters } from "./server_counters.ts";
 * console.log(await readServerCounters("/nonexistent")); // null
 * ```
 */
export async function readServerCounters(runDir: string): Promise<ServerCounters | null> {
  const c = emptyServerCounters();
  const logs = join(runDir, "logs");
  try {
    for await (const e of Deno.readDir(logs)) {
      if (!e.isFile || !/^srv-\d+\.stderr\.log$/.test(e.name)) continue;
      addShutdownCounters(c, await Deno.readTextFile(join(logs, e.name)));
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  return c.servers > 0 ? c : null;
}

/**
 * Messages that crossed to another server per message accepted, and socket
 * writes (client connections and peer links) and frames per write.
 *
 * @example
 * ```ts
 * import { batchingFigures, emptyServerCounters } from "./server_counters.ts";
 * const c = { ...emptyServerCounters(), servers: 2, accepted: 100, forwarded: 50, socketWrites: 150, framesOut: 300 };
 * batchingFigures(c); // { crossed: 0.5, writesPerMsg: 1.5, framesPerWrite: 2, peerFramesPerWrite: NaN }
 * ```
 */
export function batchingFigures(c: ServerCounters): {
  crossed: number;
  writesPerMsg: number;
  framesPerWrite: number;
  peerFramesPerWrite: number;
} {
  const div = (a: number, b: number) => b > 0 ? a / b : NaN;
  return {
    crossed: div(c.forwarded, c.accepted),
    writesPerMsg: div(c.socketWrites + c.peerWrites, c.accepted),
    framesPerWrite: div(c.framesOut, c.socketWrites),
    peerFramesPerWrite: div(c.peerFramesOut, c.peerWrites),
  };
}

/**
 * One line for `deno task analyze`'s text output.
 *
 * @example
 * ```ts
 * import { emptyServerCounters, formatServerCounters } from "./server_counters.ts";
 * const c = { ...emptyServerCounters(), servers: 1, accepted: 100, socketWrites: 120, framesOut: 240 };
 * console.log(formatServerCounters(c, 250)); // … accepted 100 message frames (2.50 messages per frame) …
 * ```
 */
export function formatServerCounters(c: ServerCounters, messages?: number): string {
  const f = batchingFigures(c);
  const n = (x: number, d = 2) => Number.isFinite(x) ? x.toFixed(d) : "—";
  // Clients seal a tick's texts to one contact into one frame: the server counts frames.
  const perFrame = messages !== undefined && c.accepted > 0
    ? ` (${n(messages / c.accepted)} messages per frame)`
    : "";
  return `servers (${c.servers}, whole run, from their shutdown counters): accepted ` +
    `${c.accepted} message frames${perFrame}, ` +
    `forwarded to another server ${c.forwarded} (${n(f.crossed * 100, 1)} %); socket writes per ` +
    `frame ${n(f.writesPerMsg)} (client frames per write ${n(f.framesPerWrite)}, peer frames ` +
    `per write ${n(f.peerFramesPerWrite)})`;
}
