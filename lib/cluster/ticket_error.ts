/**
 * How ticket rejections are reported: one {@link TicketRejectReason} in
 * `FastChatError.details.reason`, under code `INVALID_TOKEN` (or
 * `RATE_LIMITED` for `busy`), until dedicated `TICKET_*` codes exist.
 *
 * @example
 * ```ts
 * import { type TicketVerifier, ticketRejectReason } from "@fastchat/lib/cluster";
 * declare const verifier: TicketVerifier, ticket: string;
 * declare function askLbForANewTicket(): void;
 * const serverId = "srv-1";
 * try {
 *   await verifier.verify(ticket, { serverId });
 * } catch (e) {
 *   if (ticketRejectReason(e) === "expired") askLbForANewTicket();
 * }
 * ```
 * @module
 */

import { type ErrorDetails, FastChatError } from "../errors.ts";

/**
 * Why a ticket was rejected; carried in `FastChatError.details.reason`.
 * `busy` means the replay cache is full (fail closed) and comes with code
 * `RATE_LIMITED` and `details.retryMs`; every other reason uses code
 * `INVALID_TOKEN`.
 *
 * @example
 * ```ts
 * const r: TicketRejectReason = "expired";
 * ```
 */
export type TicketRejectReason = typeof TICKET_REJECT_REASONS[number];

/**
 * Every {@link TicketRejectReason}.
 *
 * @example
 * ```ts
 * TICKET_REJECT_REASONS.includes("replayed"); // true
 * ```
 */
export const TICKET_REJECT_REASONS = [
  "malformed",
  "forged",
  "expired",
  "not_yet_valid",
  "wrong_server",
  "replayed",
  "busy",
] as const;

const REASONS: ReadonlySet<string> = new Set(TICKET_REJECT_REASONS);

/** The stable error code of each rejection reason. */
const CODES = {
  malformed: "TICKET_MALFORMED",
  forged: "TICKET_FORGED",
  expired: "TICKET_EXPIRED",
  not_yet_valid: "TICKET_NOT_YET_VALID",
  wrong_server: "TICKET_WRONG_SERVER",
  replayed: "TICKET_REPLAYED",
  busy: "RATE_LIMITED",
} as const satisfies Record<TicketRejectReason, string>;

/** The code of a rejection for `R`. */
type CodeOf<R extends TicketRejectReason> = typeof CODES[R];

/**
 * Builds the error for a rejected ticket (see {@link TicketRejectReason}).
 *
 * @example
 * ```ts
 * throw ticketError("expired", "ticket expired");
 * ```
 */
export function ticketError<R extends TicketRejectReason>(
  reason: R,
  message: string,
  extra?: Omit<ErrorDetails<CodeOf<R>>, "reason">,
  cause?: unknown,
): FastChatError<CodeOf<R>> {
  const details = { ...extra, reason } as ErrorDetails<CodeOf<R>>;
  return new FastChatError<CodeOf<R>>(CODES[reason], message, details as never, { cause });
}

/**
 * The {@link TicketRejectReason} of an error thrown by ticket verification,
 * or `undefined` for any other value.
 *
 * @example
 * ```ts
 * import type { TicketVerifier } from "@fastchat/lib/cluster";
 * declare const verifier: TicketVerifier, t: string;
 * try {
 *   await verifier.verify(t, { serverId: "srv-1" });
 * } catch (e) {
 *   console.log(ticketRejectReason(e)); // e.g. "expired"; undefined if not a ticket rejection
 * }
 * ```
 */
export function ticketRejectReason(e: unknown): TicketRejectReason | undefined {
  if (!(e instanceof FastChatError)) return undefined;
  const r = e.details?.reason;
  return typeof r === "string" && REASONS.has(r) ? r as TicketRejectReason : undefined;
}
