/**
 * FastChat load balancer: clients ask it for a live chat server and receive
 * a short-lived ticket signed by the LB. This package currently provides the
 * ticket format, signing and verification; the registry-driven balancer
 * process comes with the cluster work.
 *
 * @example
 * ```ts
 * import { DEFAULT_LB_PORT } from "@fastchat/lb";
 * console.log(DEFAULT_LB_PORT);
 * ```
 * @module
 */

/** Default port of the load balancer. */
export const DEFAULT_LB_PORT = 7700;
