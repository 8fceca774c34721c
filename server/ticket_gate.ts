/**
 * Admission by load-balancer ticket. A ticket presented at login, register
 * or resume is verified against the LBs' public keys published in the store
 * (`lb_keys`): forged, expired, replayed or other-server tickets are refused
 * with their `TICKET_*` code. With `required`, logins and registrations
 * without a ticket are refused (`TICKET_REQUIRED`); resuming with a token
 * never needs one, so reconnects may skip the LB.
 *
 * @example
 * ```ts
 * import postgres from "postgres";
 * import { TicketGate } from "@fastchat/server/ticket_gate";
 * const gate = new TicketGate(postgres(Deno.env.get("DATABASE_URL")!), "fc-7701", true);
 * await gate.check("register", undefined); // throws TICKET_REQUIRED
 * ```
 * @module
 */
import type { Sql } from "postgres";
import { parseTicket } from "@fastchat/lib/cluster/ticket_format";
import { TicketVerifier, type TicketVerifierOptions } from "@fastchat/lib/cluster/ticket_verifier";
import { plainBytes } from "@fastchat/lib/crypto/bytes";
import { FastChatError } from "@fastchat/lib/errors";

/**
 * Verifies tickets for one server.
 *
 * @example
 * ```ts
 * import { TicketGate } from "@fastchat/server/ticket_gate";
 * declare const gate: TicketGate;
 * await gate.check("login", "AbC…"); // resolves, or throws TICKET_*
 * ```
 */
export class TicketGate {
  readonly #sql: Sql;
  readonly #verifier: TicketVerifier;
  readonly #misses = new Map<string, number>();

  /** `verifier` tunes the ticket checks (e.g. the replay cache capacity). */
  constructor(
    sql: Sql,
    readonly serverId: string,
    readonly required: boolean,
    verifier: TicketVerifierOptions = {},
  ) {
    this.#sql = sql;
    this.#verifier = new TicketVerifier([], verifier);
  }

  /**
   * Learns the LB key `keyId` from the store if it was published after we
   * last looked. Unknown ids are remembered for a second, so forged tickets
   * cannot turn into a query each.
   */
  async #learn(keyId: string): Promise<void> {
    if (this.#verifier.keyIds.includes(keyId)) return;
    const missUntil = this.#misses.get(keyId);
    if (missUntil !== undefined && missUntil > Date.now()) return;
    const rows = await this.#sql`select public_key from lb_keys where key_id = ${keyId}`;
    if (rows.length > 0) {
      this.#verifier.addKey(plainBytes(rows[0].public_key));
      this.#misses.delete(keyId);
    } else {
      if (this.#misses.size > 10_000) this.#misses.clear();
      this.#misses.set(keyId, Date.now() + 1000);
    }
  }

  /** Checks the ticket of a `register`, `login` or `resume` request. */
  async check(kind: "register" | "login" | "resume", ticket: string | undefined): Promise<void> {
    if (ticket === undefined) {
      if (this.required && kind !== "resume") {
        throw new FastChatError(
          "TICKET_REQUIRED",
          "this server admits new sessions through a load balancer; connect with --lb",
        );
      }
      return;
    }
    await this.#learn(parseTicket(ticket).claims.keyId);
    await this.#verifier.verify(ticket, { serverId: this.serverId });
  }
}
