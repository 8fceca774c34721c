/**
 * `--idle N`: what an idle connection costs a server. The run logs N
 * clients in (spread over the workers) and keeps them connected without
 * traffic; the servers' resident set size (VmRSS from /proc/<pid>/status)
 * is read before the first client and again after all are logged in and
 * the RSS has settled (idle_settle.ts: the login burst's garbage given back),
 * and the growth is divided by the connections each server holds. The
 * heap may still hold some of the burst, so the total RSS is also sampled every 500 ms
 * during the ramp and the marginal cost is reported as the least-squares
 * slope of RSS over connections ({@link rssSlope}).
 *
 * Idle users are registered with 100,000 PBKDF2 iterations (the client's
 * minimum) and servers hash with scrypt N=1024, which makes 10,000 logins
 * take minutes rather than an hour; registered sessions stay connected
 * (no second login), and existing users log in.
 *
 * @example
 * ```ts
 * import { idleReport } from "./idle_mode.ts";
 * const r = idleReport(
 *   [{ id: "srv-1", pid: 1, before: 50_000, after: 70_000, clients: 1000 }],
 * );
 * console.log(r.total.kbPerConnection); // 20
 * ```
 * @module
 */

/**
 * Pause between the last login and the first RSS reading ("at login").
 *
 * @example
 * ```ts
 * import { IDLE_LOGIN_READ_MS } from "./idle_mode.ts";
 * const readAt = performance.now() + IDLE_LOGIN_READ_MS;
 * ```
 */
export const IDLE_LOGIN_READ_MS = 3_000;

/**
 * The VmRSS value in KiB of a /proc/<pid>/status text (NaN if absent).
 *
 * @example
 * ```ts
 * import { parseVmRss } from "./idle_mode.ts";
 * parseVmRss("Name:\tdeno\nVmRSS:\t  123456 kB\n"); // 123456
 * ```
 */
export function parseVmRss(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) : NaN;
}

/**
 * VmRSS in KiB of process `pid` (Linux); NaN where /proc is unavailable.
 *
 * @example
 * ```ts
 * import { readVmRssKb } from "./idle_mode.ts";
 * console.log(await readVmRssKb(Deno.pid));
 * ```
 */
export async function readVmRssKb(pid: number): Promise<number> {
  try {
    return parseVmRss(await Deno.readTextFile(`/proc/${pid}/status`));
  } catch {
    return NaN;
  }
}

/**
 * User + system CPU seconds of a /proc/<pid>/stat text (fields 14 and 15,
 * in clock ticks of 100 Hz, the Linux USER_HZ).
 *
 * @example
 * ```ts
 * import { parseCpuSeconds } from "./idle_mode.ts";
 * parseCpuSeconds("42 (deno) S 1 2 3 4 5 6 7 8 9 10 150 50 0 0"); // 2
 * ```
 */
export function parseCpuSeconds(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state): utime is field 14, stime field 15.
  const ticks = Number(rest[11]) + Number(rest[12]);
  return ticks / 100;
}

/**
 * CPU seconds (user + system) used so far by process `pid`; NaN where /proc is unavailable.
 *
 * @example
 * ```ts
 * import { readCpuSeconds } from "./idle_mode.ts";
 * console.log(await readCpuSeconds(Deno.pid));
 * ```
 */
export async function readCpuSeconds(pid: number): Promise<number> {
  try {
    return parseCpuSeconds(await Deno.readTextFile(`/proc/${pid}/stat`));
  } catch {
    return NaN;
  }
}

/**
 * One server's readings.
 *
 * @example
 * ```ts
 * import { idleReport, type ServerRss } from "./idle_mode.ts";
 * const s: ServerRss = { id: "srv-1", pid: 1, before: 50_000, after: 60_000, clients: 100 };
 * idleReport([s]);
 * ```
 */
export interface ServerRss {
  id: string;
  pid: number;
  /** VmRSS (KiB) before any client connected. */
  before: number;
  /** VmRSS (KiB) {@link IDLE_LOGIN_READ_MS} after the last login. */
  atLogin?: number;
  /** VmRSS (KiB) with the idle clients connected, once settled (see idle_settle.ts). */
  after: number;
  /** Idle connections it holds. */
  clients: number;
}

/**
 * The content of `idle.json`.
 *
 * @example
 * ```ts
 * import { formatIdleReport, idleReport } from "./idle_mode.ts";
 * const r = idleReport([{ id: "srv-1", pid: 1, before: 50_000, after: 60_000, clients: 100 }]);
 * console.log(formatIdleReport(r));
 * ```
 */
export interface IdleReport {
  servers: {
    id: string;
    pid: number;
    clients: number;
    rssBeforeKB: number;
    /** VmRSS {@link IDLE_LOGIN_READ_MS} after the last login (login garbage not yet collected). */
    rssAtLoginKB?: number;
    rssAfterKB: number;
    rssDeltaKB: number;
    kbPerConnection: number | null;
  }[];
  total: { clients: number; rssDeltaKB: number; kbPerConnection: number | null };
  /**
   * Marginal cost: least-squares slope of the servers' total RSS over the
   * connection count, from samples taken while the clients logged in (the
   * upper half of the ramp, where start-up growth is over). Null with too
   * few samples.
   */
  slopeKbPerConnection?: number | null;
  /** The samples: connected clients and total server VmRSS (KiB). */
  samples?: RssSample[];
  /** When the settled reading was taken, in ms after the last login (see idle_settle.ts). */
  settledMs?: number;
}

/**
 * Connected clients and the servers' total VmRSS at one moment.
 *
 * @example
 * ```ts
 * import { type RssSample, rssSlope } from "./idle_mode.ts";
 * const samples: RssSample[] = [
 *   { tMs: 0, connections: 0, rssKB: 100 },
 *   { tMs: 500, connections: 10, rssKB: 200 },
 * ];
 * rssSlope(samples, 0); // 10
 * ```
 */
export interface RssSample {
  tMs: number;
  connections: number;
  rssKB: number;
}

/**
 * Least-squares slope of `rssKB` over `connections` for the samples with at
 * least `fromFraction` of the final connection count; null with fewer than
 * 3 distinct connection counts.
 *
 * @example
 * ```ts
 * import { rssSlope } from "./idle_mode.ts";
 * rssSlope([
 *   { tMs: 0, connections: 50, rssKB: 1500 },
 *   { tMs: 1, connections: 80, rssKB: 1800 },
 *   { tMs: 2, connections: 100, rssKB: 2000 },
 * ]); // 10
 * ```
 */
export function rssSlope(samples: RssSample[], fromFraction = 0.5): number | null {
  const max = Math.max(0, ...samples.map((s) => s.connections));
  const xs = samples.filter((s) => s.connections >= max * fromFraction && Number.isFinite(s.rssKB));
  if (new Set(xs.map((s) => s.connections)).size < 3) return null;
  const n = xs.length;
  const mx = xs.reduce((a, s) => a + s.connections, 0) / n;
  const my = xs.reduce((a, s) => a + s.rssKB, 0) / n;
  let num = 0;
  let den = 0;
  for (const s of xs) {
    num += (s.connections - mx) * (s.rssKB - my);
    den += (s.connections - mx) ** 2;
  }
  return round2(num / den);
}

/**
 * Per-server and total KiB per idle connection: RSS growth / connections
 * (null for a server without connections).
 *
 * @example
 * ```ts
 * import { idleReport } from "./idle_mode.ts";
 * const r = idleReport([{ id: "srv-1", pid: 1, before: 50_000, after: 60_000, clients: 100 }]);
 * r.total.kbPerConnection; // 100
 * ```
 */
export function idleReport(servers: ServerRss[], samples?: RssSample[]): IdleReport {
  const rows = servers.map((s) => {
    const delta = s.after - s.before;
    return {
      id: s.id,
      pid: s.pid,
      clients: s.clients,
      rssBeforeKB: s.before,
      ...(s.atLogin !== undefined ? { rssAtLoginKB: s.atLogin } : {}),
      rssAfterKB: s.after,
      rssDeltaKB: delta,
      kbPerConnection: s.clients > 0 ? round2(delta / s.clients) : null,
    };
  });
  const clients = rows.reduce((a, r) => a + r.clients, 0);
  const delta = rows.reduce((a, r) => a + r.rssDeltaKB, 0);
  return {
    servers: rows,
    total: {
      clients,
      rssDeltaKB: delta,
      kbPerConnection: clients > 0 ? round2(delta / clients) : null,
    },
    ...(samples ? { slopeKbPerConnection: rssSlope(samples), samples } : {}),
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/**
 * A short human-readable table of the report.
 *
 * @example
 * ```ts
 * import { formatIdleReport, idleReport } from "./idle_mode.ts";
 * console.log(formatIdleReport(idleReport([])));
 * ```
 */
export function formatIdleReport(r: IdleReport): string {
  const lines = [
    `server     clients  RSS before  at login+${IDLE_LOGIN_READ_MS / 1000}s  ${
      `settled+${r.settledMs === undefined ? "?" : Math.round(r.settledMs / 1000)}s`.padStart(11)
    }    KiB/conn`,
  ];
  for (const s of r.servers) {
    lines.push(
      `${s.id.padEnd(10)} ${String(s.clients).padStart(7)}  ${kib(s.rssBeforeKB)}  ${
        s.rssAtLoginKB === undefined ? "-".padStart(11) : kib(s.rssAtLoginKB)
      }  ${kib(s.rssAfterKB)}  ${
        s.kbPerConnection === null ? "-" : s.kbPerConnection.toFixed(1).padStart(8)
      }`,
    );
  }
  lines.push(
    `total      ${String(r.total.clients).padStart(7)}  RSS +${
      (r.total.rssDeltaKB / 1024).toFixed(1)
    } MiB` +
      `  ${
        r.total.kbPerConnection === null ? "-" : r.total.kbPerConnection.toFixed(1)
      } KiB per connection`,
  );
  if (r.slopeKbPerConnection !== undefined) {
    lines.push(
      `marginal   ${
        r.slopeKbPerConnection === null ? "-" : r.slopeKbPerConnection.toFixed(1)
      } KiB per connection (RSS slope over the upper half of the login ramp, ${
        r.samples?.length ?? 0
      } samples)`,
    );
  }
  return lines.join("\n");
}

function kib(x: number): string {
  return `${(x / 1024).toFixed(1)} MiB`.padStart(11);
}
