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
import { TicketVerifier } from "@fastchat/lb/ticket_verifier";
import { FastChatError } from "@fastchat/lib/errors";

const u8 = (b: Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

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
  readonly #verifier = new TicketVerifier([]);
  #loaded = 0;
  #reloading: Promise<void> | null = null;

  constructor(sql: Sql, readonly serverId: string, readonly required: boolean) {
    this.#sql = sql;
  }

  /** Loads LB keys published since the last load (at most every second). */
  async #reload(): Promise<void> {
    if (Date.now() - this.#loaded < 1000) return;
    this.#reloading ??= (async () => {
      try {
        const rows = await this.#sql`select public_key from lb_keys`;
        for (const r of rows) this.#verifier.addKey(u8(r.public_key));
        this.#loaded = Date.now();
      } finally {
        this.#reloading = null;
      }
    })();
    await this.#reloading;
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
    if (this.#loaded === 0) await this.#reload();
    try {
      await this.#verifier.verify(ticket, { serverId: this.serverId });
    } catch (e) {
      // An LB that started after our last load: refresh the keys once.
      if ((e as FastChatError).code !== "TICKET_FORGED") throw e;
      await this.#reload();
      await this.#verifier.verify(ticket, { serverId: this.serverId });
    }
  }
}
