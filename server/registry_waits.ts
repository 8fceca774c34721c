/**
 * Waiting for the server registry to reach a state: which servers are live,
 * how many clients each holds. Nothing announces these (servers heartbeat
 * into the table), so they are polled with a deadline, and a timeout says
 * what was expected and shows the last rows seen.
 *
 * @example
 * ```ts
 * import { waitForLive } from "@fastchat/server/registry_waits";
 * declare const sql: import("postgres").Sql;
 * await waitForLive(sql, ["srv-1", "srv-2"]); // exactly these, none draining
 * ```
 * @module
 */
import type { Sql } from "postgres";
import { liveServers, type RegisteredServer } from "@fastchat/lib/cluster/server_directory";
import { waitUntil } from "@fastchat/lib/wait_until";

/**
 * Default deadline of the registry waits.
 *
 * @example
 * ```ts
 * import { REGISTRY_WAIT_MS } from "@fastchat/server/registry_waits";
 * console.log(REGISTRY_WAIT_MS / 1000, "s");
 * ```
 */
export const REGISTRY_WAIT_MS = 20_000;

/**
 * The rows as one line, for timeout messages.
 *
 * @example
 * ```ts
 * import { describeServers } from "@fastchat/server/registry_waits";
 * describeServers([]); // "(none live)"
 * ```
 */
export function describeServers(live: readonly RegisteredServer[]): string {
  if (live.length === 0) return "(none live)";
  return live.map((s) =>
    `${s.id}@${s.host}:${s.port} clients=${s.clients}${
      s.draining ? " draining" : ""
    } age=${s.ageMs}ms`
  ).join("; ");
}

/**
 * Polls the live servers until `pred` holds for them; resolves with them.
 * `what` names the condition in the `TIMEOUT` error, which also shows the
 * last rows seen.
 *
 * @example
 * ```ts
 * import { waitForRegistry } from "@fastchat/server/registry_waits";
 * declare const sql: import("postgres").Sql;
 * await waitForRegistry(sql, (live) => live.length >= 2, "two live servers");
 * ```
 */
export async function waitForRegistry(
  sql: Sql,
  pred: (live: RegisteredServer[]) => boolean,
  what: string,
  timeoutMs: number = REGISTRY_WAIT_MS,
): Promise<RegisteredServer[]> {
  let last: RegisteredServer[] = [];
  return await waitUntil(
    async () => {
      last = await liveServers(sql);
      return pred(last) ? last : undefined;
    },
    timeoutMs,
    () => `${what}; registry: ${describeServers(last)}`,
  );
}

/**
 * Waits until the live servers are exactly `ids`, none of them draining:
 * what a load balancer picks from (after its short cache).
 *
 * @example
 * ```ts
 * import { waitForLive } from "@fastchat/server/registry_waits";
 * declare const sql: import("postgres").Sql;
 * await waitForLive(sql, ["srv-2"]); // srv-1's heartbeat has gone stale
 * ```
 */
export function waitForLive(
  sql: Sql,
  ids: readonly string[],
  timeoutMs?: number,
): Promise<RegisteredServer[]> {
  const want = [...ids].sort();
  return waitForRegistry(
    sql,
    (live) => live.length === want.length && live.every((s, i) => s.id === want[i] && !s.draining),
    `live servers = [${want.join(", ")}]`,
    timeoutMs,
  );
}

/**
 * Waits until the registry reports `counts[id]` clients for each given server.
 *
 * @example
 * ```ts
 * import { waitForClients } from "@fastchat/server/registry_waits";
 * declare const sql: import("postgres").Sql;
 * await waitForClients(sql, { "srv-1": 0, "srv-2": 2 });
 * ```
 */
export function waitForClients(
  sql: Sql,
  counts: Readonly<Record<string, number>>,
  timeoutMs?: number,
): Promise<RegisteredServer[]> {
  return waitForRegistry(
    sql,
    (live) =>
      Object.entries(counts).every(([id, n]) => live.find((s) => s.id === id)?.clients === n),
    `client counts ${JSON.stringify(counts)}`,
    timeoutMs,
  );
}
