/**
 * The cluster contract: what chat servers, load balancers, the launcher
 * and perf agree on. Load-balancer tickets (format, rejection reasons,
 * verification with its replay cache and key checks; the LB package signs
 * them), the server registry's reads and liveness rule, heartbeat timing, the cluster id,
 * and the ready lines processes print.
 *
 * @example
 * ```ts
 * import { LIVENESS_MS, parseTicket, SERVER_READY, TicketVerifier } from "@fastchat/lib/cluster";
 * const verifier = new TicketVerifier([]);
 * console.log(verifier.keyIds, LIVENESS_MS, SERVER_READY.source, typeof parseTicket);
 * ```
 * @module
 */

export * from "./timing.ts";
export * from "./ticket_error.ts";
export * from "./ticket_format.ts";
export * from "./lb_public_key.ts";
export * from "./replay_cache.ts";
export * from "./ticket_verifier.ts";
export * from "./server_directory.ts";
export * from "./cluster_id.ts";
export * from "./ready_lines.ts";
