/**
 * Throughput and CPU cost per message against the number of servers, for a
 * set of runs that differ in `--servers` (e.g. `deno task perf:sweep --
 * --clients 100 --servers 1,2,3,4 --messages 300`): a table (text and
 * HTML) and a chart.
 *
 * On a machine with few cores the load workers, database, load balancer
 * and servers share them, so total throughput cannot grow with servers
 * (on 2 cores it cannot); what adding servers must not do is make each
 * message dearer. Hence the figures per message:
 * - **servers µs/msg**: CPU of all servers in the messaging phase ÷
 *   messages received — the server tier's cost of one message;
 * - **per server µs/msg**: each server's CPU ÷ its share of the messages
 *   (messages ÷ servers; the LB spreads clients evenly), shown as the range
 *   over the servers: flat means no server pays for having peers beyond
 *   forwarding (a DM between clients on two servers crosses the mesh, for
 *   (S−1)/S of messages).
 * - **µs/visit**: all servers' CPU ÷ the servers a message passed through
 *   (messages × (1 + the share forwarded to another server), the share
 *   from the servers' shutdown counters, `server_counters.ts`): a message
 *   that crosses is handled twice, so this is what one server's handling
 *   of one message costs. Flat means adding servers adds no per-message
 *   work beyond the hop; what still moves it is batching, shown as socket
 *   writes per message (client connections and peer links).
 *
 * @example
 * ```ts
 * import { formatServerScaling } from "./server_scaling.ts";
 * console.log(formatServerScaling([])); // null: nothing to show
 * ```
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { CHART_WIDTH as WIDTH, chartBase as base } from "./chart_render.ts";
import type { RunSummary } from "./run_analysis.ts";
import { alignTable, fmtRate, MISSING } from "./table_format.ts";
import { batchingFigures } from "./server_counters.ts";

/**
 * One run's figures.
 *
 * @example
 * ```ts
 * import type { ServerScalingPoint } from "./server_scaling.ts";
 * declare const p: ServerScalingPoint;
 * console.log(p.servers, p.serversUsPerMsg);
 * ```
 */
export interface ServerScalingPoint {
  run: string;
  servers: number;
  clients: number;
  messagesPerSec: number;
  /** All servers' CPU µs ÷ messages. */
  serversUsPerMsg: number;
  /** Each server's CPU µs ÷ (messages ÷ servers), by server name. */
  perServerUsPerMsg: { name: string; us: number }[];
  /** Mean CPU seconds of one server in the messaging phase. */
  cpuSecPerServer: number;
  /** Cores the servers kept busy, and all processes together. */
  serverCores: number;
  totalCores: number;
  /** µs/msg of the database, LB and load workers. */
  dbUsPerMsg: number;
  lbUsPerMsg: number;
  workerUsPerMsg: number;
  machineCores: number;
  /** Share of messages forwarded to another server (whole run; NaN without counters). */
  crossed: number;
  /** All servers' CPU µs ÷ (messages × (1 + crossed)). */
  usPerVisit: number;
  /** Socket writes (client and peer) per message accepted (whole run). */
  writesPerMsg: number;
}

/**
 * The runs' points, by servers then clients; empty unless `servers`
 * takes two or more values among runs with `processes.csv`.
 *
 * @example
 * ```ts
 * import { serverScalingPoints } from "./server_scaling.ts";
 * serverScalingPoints([]); // []
 * ```
 */
export function serverScalingPoints(runs: RunSummary[]): ServerScalingPoint[] {
  const measured = runs.filter((r) => r.processes && r.info.config.servers !== null);
  if (new Set(measured.map((r) => r.info.config.servers)).size < 2) return [];
  return measured.map((r) => {
    const p = r.processes!, S = r.info.config.servers!;
    const role = (x: string) => p.roles.find((q) => q.role === x);
    const servers = p.processes.filter((q) => q.role === "server");
    const share = p.messages / S;
    const b = r.serverCounters
      ? batchingFigures(r.serverCounters)
      : { crossed: NaN, writesPerMsg: NaN };
    const serversUs = role("server")?.cpuUsPerMsg ?? NaN;
    return {
      run: r.name,
      servers: S,
      clients: r.info.config.clients,
      messagesPerSec: r.throughput.messagesPerSec,
      serversUsPerMsg: serversUs,
      perServerUsPerMsg: servers.map((q) => ({
        name: q.name,
        us: share > 0 ? Math.round((q.cpuMs * 1000 * 100) / share) / 100 : NaN,
      })),
      cpuSecPerServer: servers.length
        ? servers.reduce((s, q) => s + q.cpuMs, 0) / servers.length / 1000
        : NaN,
      serverCores: role("server")?.cores ?? NaN,
      totalCores: p.total.cores,
      dbUsPerMsg: role("db")?.cpuUsPerMsg ?? NaN,
      lbUsPerMsg: role("lb")?.cpuUsPerMsg ?? NaN,
      workerUsPerMsg: role("worker")?.cpuUsPerMsg ?? NaN,
      machineCores: r.info.machine.cores,
      crossed: b.crossed,
      usPerVisit: serversUs / (1 + (S === 1 ? 0 : b.crossed)),
      writesPerMsg: b.writesPerMsg,
    };
  }).sort((a, b) => a.servers - b.servers || a.clients - b.clients);
}

/**
 * Header and cells of the table.
 *
 * @example
 * ```ts
 * import { serverScalingRows } from "./server_scaling.ts";
 * serverScalingRows([])[0][0]; // "run"
 * ```
 */
export function serverScalingRows(points: ServerScalingPoint[]): string[][] {
  const range = (v: number[]) => {
    const f = v.filter(Number.isFinite);
    if (!f.length) return MISSING;
    const lo = Math.min(...f), hi = Math.max(...f);
    return lo === hi ? fmtRate(lo) : `${fmtRate(lo)}–${fmtRate(hi)}`;
  };
  return [
    [
      "run",
      "servers",
      "clients",
      "msg/s",
      "servers µs/msg",
      "per server µs/msg",
      "crossed",
      "µs/visit",
      "writes/msg",
      "CPU s/server",
      "server cores",
      "all cores",
      "db µs/msg",
      "lb µs/msg",
      "workers µs/msg",
    ],
    ...points.map((p) => [
      p.run,
      String(p.servers),
      String(p.clients),
      fmtRate(p.messagesPerSec),
      fmtRate(p.serversUsPerMsg),
      range(p.perServerUsPerMsg.map((s) => s.us)),
      Number.isFinite(p.crossed) ? `${(p.crossed * 100).toFixed(0)} %` : MISSING,
      fmtRate(p.usPerVisit),
      Number.isFinite(p.writesPerMsg) ? p.writesPerMsg.toFixed(2) : MISSING,
      Number.isFinite(p.cpuSecPerServer) ? p.cpuSecPerServer.toFixed(2) : MISSING,
      fmtRate(p.serverCores),
      fmtRate(p.totalCores),
      fmtRate(p.dbUsPerMsg),
      fmtRate(p.lbUsPerMsg),
      fmtRate(p.workerUsPerMsg),
    ]),
  ];
}

/**
 * What the table shows and what it cannot, for the machine's core count.
 *
 * @example
 * ```ts
 * import { serverScalingNote } from "./server_scaling.ts";
 * serverScalingNote(2).startsWith("on 2 cores"); // true
 * ```
 */
export function serverScalingNote(cores: number): string {
  return `on ${cores} cores the servers share the CPU with the load workers, database and LB ` +
    `(all cores = what they kept busy together): total throughput cannot grow with servers` +
    `${cores <= 2 ? " here" : " beyond the cores"}. What must stay flat is the CPU a message ` +
    `costs: servers µs/msg (all servers' CPU ÷ messages) and per server µs/msg (each server's ` +
    `CPU ÷ its share, messages ÷ servers; range over the servers). A DM between clients on ` +
    `different servers crosses the mesh (crossed: the share forwarded, from the servers' ` +
    `counters) and is handled by two servers: µs/visit = servers' CPU ÷ (messages × ` +
    `(1 + crossed)) is what one server's handling of one message costs; writes/msg shows ` +
    `the batching (fewer messages per server and turn as servers are added).`;
}

/**
 * The text table `deno task analyze` prints for runs differing in servers; null otherwise.
 *
 * @example
 * ```ts
 * import { formatServerScaling } from "./server_scaling.ts";
 * formatServerScaling([]); // null
 * ```
 */
export function formatServerScaling(runs: RunSummary[]): string | null {
  const points = serverScalingPoints(runs);
  if (!points.length) return null;
  return `throughput and CPU per message vs servers (messaging phase)\n` +
    alignTable(serverScalingRows(points), "  ") +
    `\n  note: ${serverScalingNote(points[0].machineCores)}`;
}

/**
 * The chart: messages per second, and CPU µs per message by role, against servers.
 *
 * @example
 * ```ts
 * import { serverScalingSpecs } from "./server_scaling.ts";
 * serverScalingSpecs([]).length; // 0
 * ```
 */
export function serverScalingSpecs(
  runs: RunSummary[],
): { name: string; title: string; spec: TopLevelSpec }[] {
  const points = serverScalingPoints(runs);
  if (!points.length) return [];
  const thr = points.map((p) => ({
    servers: p.servers,
    series: `${p.clients} clients`,
    v: p.messagesPerSec,
  }));
  const cpu = points.flatMap((p) => [
    { servers: p.servers, series: "servers (all)", v: p.serversUsPerMsg },
    ...p.perServerUsPerMsg.map((s) => ({
      servers: p.servers,
      series: "each server (its share)",
      v: s.us,
    })),
    { servers: p.servers, series: "database", v: p.dbUsPerMsg },
    { servers: p.servers, series: "load balancer", v: p.lbUsPerMsg },
    { servers: p.servers, series: "load workers", v: p.workerUsPerMsg },
  ]).filter((x) => Number.isFinite(x.v));
  const x = { field: "servers", type: "quantitative", title: "servers", axis: { tickMinStep: 1 } };
  const panel = (values: unknown[], yTitle: string, perServerPoints: boolean) => ({
    width: WIDTH,
    height: 220,
    data: { values },
    layer: [
      {
        transform: perServerPoints
          ? [{ filter: "datum.series !== 'each server (its share)'" }]
          : [],
        mark: { type: "line", point: true },
        encoding: {
          x,
          y: { field: "v", type: "quantitative", title: yTitle, aggregate: "mean" },
          color: { field: "series", type: "nominal", title: null, legend: { labelLimit: 400 } },
        },
      },
      ...(perServerPoints
        ? [{
          transform: [{ filter: "datum.series === 'each server (its share)'" }],
          mark: { type: "point", shape: "diamond", filled: true, size: 50 },
          encoding: {
            x,
            y: { field: "v", type: "quantitative" },
            color: { field: "series", type: "nominal", title: null, legend: { labelLimit: 400 } },
          },
        }]
        : []),
    ],
  });
  const title = "Throughput and CPU per message vs servers";
  return [{
    name: "server-scaling",
    title,
    spec: {
      ...base(
        title,
        `${points.length} runs; on ${
          points[0].machineCores
        } cores total throughput cannot grow with servers`,
      ),
      vconcat: [panel(thr, "messages / s", false), panel(cpu, "CPU µs per message", true)],
      resolve: { scale: { color: "independent" } },
    } as unknown as TopLevelSpec,
  }];
}
