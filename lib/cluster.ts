/**
 * Timing shared by chat servers (which heartbeat) and load balancers (which
 * judge liveness), so both sides always agree.
 *
 * @example
 * ```ts
 * import { HEARTBEAT_MS, LIVENESS_MS } from "@fastchat/lib/cluster";
 * console.log(LIVENESS_MS / HEARTBEAT_MS); // heartbeats a server may miss, plus slack
 * ```
 * @module
 */

/** How often a chat server heartbeats in the registry. */
export const HEARTBEAT_MS = 1000;

/** A server whose last heartbeat is older than this (database clock) is dead. */
export const LIVENESS_MS = 3500;
