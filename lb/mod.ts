/**
 * FastChat load balancer: clients ask it for a live chat server and receive
 * a short-lived ticket signed by the LB. This package currently provides the
 * ticket format, signing and verification, and the persistent LB key; the
 * registry-driven balancer process comes with the cluster work.
 *
 * @example
 * ```ts
 * import { DEFAULT_LB_PORT, loadOrCreateSigner, TicketVerifier } from "@fastchat/lb";
 * const signer = await loadOrCreateSigner("data/lb/ticket_key.json");
 * const ticket = await signer.issue({ serverId: "srv-1", host: "127.0.0.1", port: 7701 });
 * const verifier = new TicketVerifier([await signer.publicKey()]);
 * console.log(DEFAULT_LB_PORT, await verifier.verify(ticket, { serverId: "srv-1" }));
 * ```
 * @module
 */

export * from "./ticket.ts";
export * from "./key_file.ts";

/** Default port of the load balancer. */
export const DEFAULT_LB_PORT = 7700;
