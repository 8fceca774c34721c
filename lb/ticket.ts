/**
 * Load-balancer tickets: the LB hands each client a short-lived ticket,
 * signed with its Ed25519 key, naming one live chat server; that server
 * verifies it before accepting the client. This module gathers the whole
 * ticket API: the format (`ticket_format.ts`), rejection reasons
 * (`ticket_error.ts`), issuing (`ticket_signer.ts`), verifying
 * (`ticket_verifier.ts`) with its replay cache (`replay_cache.ts`) and key
 * checks (`lb_public_key.ts`).
 *
 * @example
 * ```ts
 * import { TicketSigner, TicketVerifier, ticketRejectReason } from "@fastchat/lb/ticket";
 * const lb = await TicketSigner.generate();
 * const ticket = await lb.issue({ serverId: "srv-1", host: "10.0.0.5", port: 7701 });
 *
 * const verifier = new TicketVerifier([await lb.publicKey()]);
 * const claims = await verifier.verify(ticket, { serverId: "srv-1" }); // ok once
 * try {
 *   await verifier.verify(ticket, { serverId: "srv-1" });
 * } catch (e) {
 *   console.log(ticketRejectReason(e)); // "replayed"
 * }
 * ```
 * @module
 */

export * from "./ticket_error.ts";
export * from "./ticket_format.ts";
export * from "./lb_public_key.ts";
export * from "./replay_cache.ts";
export * from "./ticket_signer.ts";
export * from "./ticket_verifier.ts";
