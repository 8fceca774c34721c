/**
 * Load-balancer tickets: the LB hands each client a short-lived ticket,
 * signed with its Ed25519 key, naming one live chat server; that server
 * verifies it before accepting the client. This module gathers the whole
 * ticket API: issuing (`ticket_signer.ts`, here) and, re-exported from the
 * cluster contract (`@fastchat/lib/cluster`) that chat servers import too,
 * the format, rejection reasons, verification, replay cache and key checks.
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
 *   console.log(claims.serverId, ticketRejectReason(e)); // "srv-1" "replayed"
 * }
 * ```
 * @module
 */

export * from "@fastchat/lib/cluster/ticket_error";
export * from "@fastchat/lib/cluster/ticket_format";
export * from "@fastchat/lib/cluster/lb_public_key";
export * from "@fastchat/lib/cluster/replay_cache";
export * from "@fastchat/lib/cluster/ticket_verifier";
export * from "./ticket_signer.ts";
