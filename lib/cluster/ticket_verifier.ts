/**
 * The chat-server side of tickets: checks that a ticket was signed by one
 * of the known LB keys, is within its lifetime, names this server and has
 * not been used before.
 *
 * Checks run in this order, each failure throwing its `TICKET_*` code with
 * `details.reason`: `malformed` (structure), `forged` (unknown key id or bad
 * signature), `expired`, `not_yet_valid` (issued beyond the clock skew in
 * the future) or `malformed` (lifetime above `maxTtlMs`), `wrong_server`,
 * `replayed`. Nothing but structure is reported before the signature is
 * checked. A full replay cache fails closed with `RATE_LIMITED`
 * (`reason: "busy"`, `retryMs`) rather than forgetting live nonces.
 *
 * The verifier's clock never runs backwards: it remembers the latest time
 * it has seen and judges expiry against that, so a wall-clock step back
 * cannot revive a ticket whose nonce was already evicted (the price: after
 * a clock that ran ahead is corrected, tickets are refused as expired until
 * real time catches up).
 *
 * @example
 * ```ts
 * import { TicketVerifier } from "@fastchat/lib/cluster";
 * declare const lbPublicKey: Uint8Array, ticket: string;
 * const verifier = new TicketVerifier([lbPublicKey]);
 * const claims = await verifier.verify(ticket, { serverId: "srv-1" });
 * ```
 * @module
 */

import { FastChatError } from "../errors.ts";
import { bufferSource } from "../crypto/mod.ts";
import { checkLbPublicKey } from "./lb_public_key.ts";
import { ReplayCache } from "./replay_cache.ts";
import { ticketError } from "./ticket_error.ts";
import {
  MAX_TICKET_TTL_MS,
  parseTicket,
  type TicketClaims,
  ticketKeyId,
  ticketSigningInput,
} from "./ticket_format.ts";

/** Default tolerated clock difference between LB and chat server: 2 s. */
export const DEFAULT_CLOCK_SKEW_MS = 2_000;

/**
 * LB public keys (raw 32-byte Ed25519): a list, or a map / record by key id
 * (ids are checked against {@link ticketKeyId}).
 *
 * @example
 * ```ts
 * import { ticketKeyId } from "@fastchat/lib/cluster";
 * declare const lbPublicKey: Uint8Array;
 * const keys: TicketVerifierKeys = new Map([[ticketKeyId(lbPublicKey), lbPublicKey]]);
 * ```
 */
export type TicketVerifierKeys =
  | readonly Uint8Array[]
  | ReadonlyMap<string, Uint8Array>
  | Readonly<Record<string, Uint8Array>>;

/**
 * Options for {@link TicketVerifier}.
 *
 * @example
 * ```ts
 * const opts: TicketVerifierOptions = { clockSkewMs: 5_000, maxReplayEntries: 50_000 };
 * ```
 */
export interface TicketVerifierOptions {
  /** Tolerated LB/server clock difference (default {@link DEFAULT_CLOCK_SKEW_MS}). */
  clockSkewMs?: number;
  /** Longest ticket lifetime accepted (default {@link MAX_TICKET_TTL_MS}). */
  maxTtlMs?: number;
  /** Replay cache capacity (default 100 000; see {@link ReplayCache}). */
  maxReplayEntries?: number;
  /** Clock, Unix ms (default `Date.now`). */
  clock?: () => number;
}

/**
 * Arguments of {@link TicketVerifier.verify}.
 *
 * @example
 * ```ts
 * const opts: VerifyTicketOptions = { serverId: "srv-1" };
 * ```
 */
export interface VerifyTicketOptions {
  /** Id of the verifying chat server; the ticket must name it. */
  serverId: string;
  /** Current time, Unix ms (default: the verifier's clock). */
  now?: number;
}

function configError(message: string): FastChatError {
  return new FastChatError("INVALID_CONFIG", `LB public key: ${message}`);
}

/**
 * Verifies tickets against one or more LB public keys (several LB processes
 * side by side) and rejects replays. One instance per chat server.
 *
 * @example
 * ```ts
 * declare const lb1Key: Uint8Array, lb2Key: Uint8Array, ticket: string;
 * const verifier = new TicketVerifier([lb1Key, lb2Key]);
 * const { host, port } = await verifier.verify(ticket, { serverId: "srv-1" });
 * ```
 */
export class TicketVerifier {
  /** Tolerated clock difference, ms. */
  readonly clockSkewMs: number;
  /** Longest accepted ticket lifetime, ms. */
  readonly maxTtlMs: number;
  #keys: Map<string, { raw: Uint8Array; key?: Promise<CryptoKey> }> = new Map();
  #replay: ReplayCache;
  #clock: () => number;
  #latest = 0;

  /**
   * Trusts `publicKeys` (may be empty; see {@link TicketVerifier.addKey}).
   * Throws `INVALID_CONFIG` for a bad key, a key id that does not match its
   * key, or invalid options.
   */
  constructor(publicKeys: TicketVerifierKeys, options: TicketVerifierOptions = {}) {
    const nonNegInt = (v: number, name: string) => {
      if (!Number.isSafeInteger(v) || v < 0) throw configError(`${name} must be an integer ≥ 0`);
      return v;
    };
    this.clockSkewMs = nonNegInt(options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS, "clockSkewMs");
    this.maxTtlMs = nonNegInt(options.maxTtlMs ?? MAX_TICKET_TTL_MS, "maxTtlMs");
    this.#replay = new ReplayCache({ maxEntries: options.maxReplayEntries });
    this.#clock = options.clock ?? Date.now;
    if (Array.isArray(publicKeys)) {
      for (const raw of publicKeys) this.addKey(raw);
    } else {
      const entries = publicKeys instanceof Map
        ? [...publicKeys.entries()]
        : Object.entries(publicKeys as Record<string, Uint8Array>);
      for (const [id, raw] of entries) {
        if (this.addKey(raw) !== id) throw configError(`key id ${id} does not match its key`);
      }
    }
  }

  /**
   * Trusts one more LB key; returns its key id. Throws `INVALID_CONFIG` for
   * anything but a 32-byte Ed25519 key of full order.
   *
   * @example
   * ```ts
   * declare const verifier: TicketVerifier, newLbKey: Uint8Array;
   * const keyId = verifier.addKey(newLbKey);
   * ```
   */
  addKey(publicKey: Uint8Array): string {
    const raw = checkLbPublicKey(publicKey);
    const id = ticketKeyId(raw);
    if (!this.#keys.has(id)) this.#keys.set(id, { raw });
    return id;
  }

  /**
   * Stops trusting a key (e.g. a retired LB); returns whether it was known.
   *
   * @example
   * ```ts
   * declare const verifier: TicketVerifier, oldKeyId: string; // a retired LB's key id
   * verifier.removeKey(oldKeyId);
   * ```
   */
  removeKey(keyId: string): boolean {
    return this.#keys.delete(keyId);
  }

  /** Ids of the trusted keys. */
  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  /** Nonces currently remembered by the replay cache. */
  get replayCacheSize(): number {
    return this.#replay.size;
  }

  /**
   * Verifies a ticket for server `serverId` and consumes its nonce; returns
   * its claims. Throws as described in the module docs; never anything but
   * `FastChatError`.
   *
   * @example
   * ```ts
   * declare const verifier: TicketVerifier, ticket: string;
   * const claims = await verifier.verify(ticket, { serverId: "srv-1" });
   * ```
   */
  async verify(ticket: string, opts: VerifyTicketOptions): Promise<TicketClaims> {
    const serverId = opts?.serverId;
    if (typeof serverId !== "string" || serverId === "") {
      throw new FastChatError("BAD_REQUEST", "verify needs this server's id");
    }
    const { claims, body, signature } = parseTicket(ticket);
    const entry = this.#keys.get(claims.keyId);
    if (!entry) throw ticketError("forged", "ticket signed by an unknown key");
    entry.key ??= crypto.subtle.importKey("raw", bufferSource(entry.raw), "Ed25519", false, [
      "verify",
    ]);
    let ok = false;
    try {
      ok = await crypto.subtle.verify(
        "Ed25519",
        await entry.key,
        signature,
        ticketSigningInput(body),
      );
    } catch (e) {
      throw new FastChatError("INVALID_CONFIG", "LB public key unusable", undefined, { cause: e });
    }
    if (!ok) throw ticketError("forged", "bad ticket signature");

    // Synchronous from here on: check-and-record of the nonce is atomic.
    const now = opts.now ?? this.#clock();
    if (!Number.isFinite(now)) throw new FastChatError("BAD_REQUEST", "now must be a number");
    this.#latest = Math.max(this.#latest, now);
    const deadline = claims.expiresAt + this.clockSkewMs;
    if (this.#latest >= deadline) {
      throw ticketError("expired", "ticket expired", { expiresAt: claims.expiresAt });
    }
    if (claims.issuedAt > now + this.clockSkewMs) {
      throw ticketError("not_yet_valid", "ticket issued in the future", {
        issuedAt: claims.issuedAt,
      });
    }
    if (claims.expiresAt - claims.issuedAt > this.maxTtlMs) {
      throw ticketError("malformed", `ticket lifetime exceeds ${this.maxTtlMs} ms`);
    }
    if (claims.serverId !== serverId) {
      throw ticketError("wrong_server", "ticket is for another server", {
        serverId: claims.serverId,
      });
    }
    const added = this.#replay.add(claims.nonce, deadline, this.#latest);
    if (added === "replayed") throw ticketError("replayed", "ticket already used");
    if (added === "full") {
      const retryMs = Math.max(1, (this.#replay.nextDeadline() ?? deadline) - this.#latest);
      throw ticketError("busy", "too many live tickets, retry later", { retryMs });
    }
    return claims;
  }
}
