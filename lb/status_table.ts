/**
 * The text table printed by `deno task lb -- status`: one line per
 * registered chat server with its client address, client count, heartbeat
 * age, and whether it is draining and live.
 *
 * @example
 * ```ts
 * import { formatServerTable } from "@fastchat/lb/status_table";
 * console.log(formatServerTable([
 *   { id: "fc-7701", host: "127.0.0.1", port: 7701, clients: 4, draining: false, ageMs: 300, live: true },
 * ]));
 * // ID       ADDRESS         CLIENTS  AGE   DRAINING  LIVE
 * // fc-7701  127.0.0.1:7701        4  0.3s  no        yes
 * // 1 live server, 4 clients
 * ```
 * @module
 */
import type { ServerSummary } from "@fastchat/lib/cluster/server_directory";

/**
 * Formats a heartbeat age: tenths of seconds below 10 s, then whole
 * seconds, minutes, hours and days.
 *
 * @example
 * ```ts
 * import { formatAge } from "@fastchat/lb/status_table";
 * formatAge(420); // "0.4s"
 * formatAge(90_000); // "1m30s"
 * ```
 */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor(s / 3600) % 24)}h`;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

const HEADERS = ["ID", "ADDRESS", "CLIENTS", "AGE", "DRAINING", "LIVE"];
/** Columns aligned right (numbers). */
const RIGHT = new Set([2]);

/**
 * Formats servers as an aligned table with a summary line; an empty list
 * gives a one-line hint instead.
 *
 * @example
 * ```ts
 * import { formatServerTable } from "@fastchat/lb/status_table";
 * formatServerTable([]); // "no chat servers registered (start one with `deno task server`)"
 * ```
 */
export function formatServerTable(servers: readonly ServerSummary[]): string {
  if (servers.length === 0) {
    return "no chat servers registered (start one with `deno task server`)";
  }
  const rows = servers.map((s) => [
    s.id,
    `${s.host}:${s.port}`,
    String(s.clients),
    formatAge(s.ageMs),
    s.draining ? "yes" : "no",
    s.live ? "yes" : "no",
  ]);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => {
      if (i === cells.length - 1) return c;
      return RIGHT.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]);
    }).join("  ");
  const live = servers.filter((s) => s.live);
  const accepting = live.filter((s) => !s.draining).length;
  const clients = live.reduce((n, s) => n + s.clients, 0);
  let summary = `${live.length} live server${live.length === 1 ? "" : "s"}`;
  if (accepting !== live.length) summary += ` (${accepting} accepting clients)`;
  summary += `, ${clients} client${clients === 1 ? "" : "s"}`;
  if (live.length !== servers.length) summary += `, ${servers.length - live.length} dead`;
  return [line(HEADERS), ...rows.map(line), summary].join("\n");
}
