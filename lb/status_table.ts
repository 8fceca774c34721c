/**
 * The text table printed by `deno task lb -- status`: one line per
 * registered chat server with its client address, whether it speaks TLS,
 * client count, heartbeat age, and its state: `live`, `draining` (live but
 * taking no new clients) or `dead` (no heartbeat within the liveness window;
 * the row is forgotten once it is dead for longer than the retention).
 *
 * @example
 * ```ts
 * import { formatServerTable } from "@fastchat/lb/status_table";
 * console.log(formatServerTable([
 *   {
 *     id: "fc-7701", host: "127.0.0.1", port: 7701, tls: true, clients: 4, draining: false,
 *     ageMs: 300, live: true,
 *   },
 * ]));
 * // ID       ADDRESS         TLS  CLIENTS  AGE   STATE
 * // fc-7701  127.0.0.1:7701  yes        4  0.3s  live
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

const HEADERS = ["ID", "ADDRESS", "TLS", "CLIENTS", "AGE", "STATE"];
/** Columns aligned right (numbers). */
const RIGHT = new Set([3]);

/**
 * A server's state as the table shows it: `dead` when its heartbeat is
 * stale, else `draining` or `live`.
 *
 * @example
 * ```ts
 * import { serverState } from "@fastchat/lb/status_table";
 * serverState({ live: false, draining: true }); // "dead"
 * ```
 */
export function serverState(s: { live: boolean; draining: boolean }): "live" | "draining" | "dead" {
  return !s.live ? "dead" : s.draining ? "draining" : "live";
}

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
    s.tls ? "yes" : "no",
    String(s.clients),
    formatAge(s.ageMs),
    serverState(s),
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
