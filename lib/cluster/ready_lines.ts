/**
 * The lines FastChat processes print on stdout once they serve, and the
 * patterns that recognise them: how `deno task start`, the tests and perf
 * know that a child process is ready and where it listens. The printers
 * (`db/main.ts`, `server/main.ts`, `lb/main.ts`) and the readers use these
 * same definitions, so they cannot drift apart.
 *
 * @example
 * ```ts
 * import { parseListening, SERVER_READY, serverReadyLine } from "@fastchat/lib/cluster/ready_lines";
 * const line = serverReadyLine("srv-1", "127.0.0.1:7701");
 * parseListening(line.match(SERVER_READY)!); // { id: "srv-1", host: "127.0.0.1", port: 7701, … }
 * ```
 * @module
 */

/**
 * A chat server's ready line: groups are its id, host and port.
 *
 * @example
 * ```ts
 * import { SERVER_READY } from "@fastchat/lib/cluster/ready_lines";
 * "FastChat server srv-1 listening on 127.0.0.1:7701".match(SERVER_READY)![1]; // "srv-1"
 * ```
 */
export const SERVER_READY: RegExp = /^FastChat server (\S+) listening on (\S+):(\d+)$/;

/**
 * A load balancer's ready line: groups are its id, host and port.
 *
 * @example
 * ```ts
 * import { LB_READY } from "@fastchat/lib/cluster/ready_lines";
 * "FastChat load balancer lb-1 listening on 127.0.0.1:7700".match(LB_READY)![3]; // "7700"
 * ```
 */
export const LB_READY: RegExp = /^FastChat load balancer (\S+) listening on (\S+):(\d+)$/;

/**
 * The embedded database's ready line: the group is its URL (without the
 * password, which stays in the database's data directory or environment).
 *
 * @example
 * ```ts
 * import { DB_READY } from "@fastchat/lib/cluster/ready_lines";
 * "FastChat embedded database listening on postgres://postgres@127.0.0.1:7432/postgres"
 *   .match(DB_READY)![1]; // "postgres://postgres@127.0.0.1:7432/postgres"
 * ```
 */
export const DB_READY: RegExp = /^FastChat embedded database listening on (postgres:\/\/\S+)$/;

/**
 * The line a chat server prints once it serves clients at `address` (`host:port`).
 *
 * @example
 * ```ts
 * import { serverReadyLine } from "@fastchat/lib/cluster/ready_lines";
 * console.log(serverReadyLine("srv-1", "127.0.0.1:7701"));
 * ```
 */
export function serverReadyLine(id: string, address: string): string {
  return `FastChat server ${id} listening on ${address}`;
}

/**
 * The line a load balancer prints once it serves clients at `address` (`host:port`).
 *
 * @example
 * ```ts
 * import { lbReadyLine } from "@fastchat/lib/cluster/ready_lines";
 * console.log(lbReadyLine("lb-1", "127.0.0.1:7700"));
 * ```
 */
export function lbReadyLine(id: string, address: string): string {
  return `FastChat load balancer ${id} listening on ${address}`;
}

/**
 * The line the embedded database prints once it accepts connections at `url`.
 *
 * @example
 * ```ts
 * import { dbReadyLine } from "@fastchat/lib/cluster/ready_lines";
 * console.log(dbReadyLine("postgres://postgres@127.0.0.1:7432/postgres"));
 * ```
 */
export function dbReadyLine(url: string): string {
  return `FastChat embedded database listening on ${url}`;
}

/**
 * Where a server or load balancer listens, from a match of
 * {@link SERVER_READY} or {@link LB_READY}.
 *
 * @example
 * ```ts
 * import type { Listening } from "@fastchat/lib/cluster/ready_lines";
 * const l: Listening = { id: "srv-1", host: "127.0.0.1", port: 7701, address: "127.0.0.1:7701" };
 * ```
 */
export interface Listening {
  /** The process's id (`--id`, or derived from its port). */
  id: string;
  /** Bound (server: advertised) host. */
  host: string;
  /** Bound port. */
  port: number;
  /** `host:port`. */
  address: string;
}

/**
 * Reads id, host and port from a match of {@link SERVER_READY} or {@link LB_READY}.
 *
 * @example
 * ```ts
 * import { LB_READY, lbReadyLine, parseListening } from "@fastchat/lib/cluster/ready_lines";
 * parseListening(lbReadyLine("lb-1", "127.0.0.1:7700").match(LB_READY)!).port; // 7700
 * ```
 */
export function parseListening(match: RegExpMatchArray): Listening {
  const [, id, host, port] = match;
  return { id, host, port: Number(port), address: `${host}:${port}` };
}
