/**
 * FastChat load balancer: clients ask it for a live chat server and receive
 * a short-lived ticket signed by the LB, naming a server picked from the
 * registry (round-robin, random or least-connections). This package holds
 * the balancer ({@link LoadBalancer}, `deno task lb`), ticket signing
 * (with the format and verification of the cluster contract,
 * `@fastchat/lib/cluster`, re-exported), the persistent LB key and its
 * publication in the store.
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
export * from "./lb_key_store.ts";
export * from "./server_picker.ts";
export * from "./lb_server.ts";
