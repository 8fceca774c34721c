/**
 * Timing shared by chat servers (which heartbeat) and load balancers (which
 * judge liveness), so both sides always agree.
 *
 * @example
 * ```ts
 * import { HEARTBEAT_MS, LIVENESS_MS } from "@fastchat/lib/cluster/timing";
 * console.log(LIVENESS_MS / HEARTBEAT_MS); // heartbeats a server may miss, plus slack
 * ```
 * @module
 */

/**
 * How often a chat server heartbeats in the registry.
 *
 * @example
 * ```ts
 * import { HEARTBEAT_MS } from "@fastchat/lib/cluster/timing";
 * setInterval(() => {}, HEARTBEAT_MS);
 * ```
 */
export const HEARTBEAT_MS = 1000;

/**
 * A server whose last heartbeat is older than this (database clock) is dead.
 *
 * @example
 * ```ts
 * import { LIVENESS_MS } from "@fastchat/lib/cluster/timing";
 * const live = (ageMs: number) => ageMs <= LIVENESS_MS;
 * ```
 */
export const LIVENESS_MS = 3500;

/**
 * Default of how long a dead server's registry row is kept (shown as dead by
 * `lb status`) before a live server's heartbeat or a load balancer deletes
 * it: ten liveness windows.
 *
 * @example
 * ```ts
 * import { DEFAULT_FORGET_AFTER_MS, LIVENESS_MS } from "@fastchat/lib/cluster/timing";
 * console.log(DEFAULT_FORGET_AFTER_MS / LIVENESS_MS); // 10
 * ```
 */
export const DEFAULT_FORGET_AFTER_MS = 10 * LIVENESS_MS;
