/**
 * Caps on unauthenticated connections, in total and per remote address, and
 * the refusal of a connection over them: one `error` frame (`RATE_LIMITED`
 * with a retry time) written at once, then close, without reading a byte of
 * what the peer sent. A connection holds a {@link CapSlot} while it is
 * unauthenticated and releases it when it logs in or closes.
 *
 * @example
 * ```ts
 * import { ConnectionCaps } from "@fastchat/lib/connection_caps";
 * const caps = new ConnectionCaps({ maxTotal: 1000, maxPerAddress: 32 });
 * const slot = caps.admit("203.0.113.7");
 * if (slot) slot.release(); // logged in (or closed): no longer counted
 * ```
 * @module
 */
import { encodeFrame } from "./frame.ts";
import { closeIfOpen } from "./already_gone.ts";
import { encodePayload } from "./protocol.ts";

/** Limits of a {@link ConnectionCaps}. */
export interface ConnectionCapLimits {
  /** Unauthenticated connections at most, over all addresses. */
  maxTotal: number;
  /** Unauthenticated connections at most from one remote address. */
  maxPerAddress: number;
}

/**
 * Defaults for a real deployment: 1,000 unauthenticated connections, 32 per
 * address (enough for a NAT of many users logging in at once; a login takes
 * well under a second of the slot).
 *
 * @example
 * ```ts
 * import { DEFAULT_PREAUTH_CAPS } from "@fastchat/lib/connection_caps";
 * console.log(DEFAULT_PREAUTH_CAPS.maxPerAddress); // 32
 * ```
 */
export const DEFAULT_PREAUTH_CAPS: ConnectionCapLimits = { maxTotal: 1000, maxPerAddress: 32 };

/** How long a refused peer is told to wait before trying again (ms). */
export const REFUSAL_RETRY_MS = 1000;

/** Longest time a refusal waits for its error frame to be written (ms). */
export const REFUSAL_WRITE_TIMEOUT_MS = 1000;

/**
 * One admitted unauthenticated connection; {@link release} is idempotent.
 *
 * @example
 * ```ts
 * import { ConnectionCaps } from "@fastchat/lib/connection_caps";
 * const slot = new ConnectionCaps({ maxTotal: 1, maxPerAddress: 1 }).admit("::1")!;
 * slot.release();
 * slot.release(); // no effect
 * ```
 */
export interface CapSlot {
  /** Stops counting the connection (it logged in or closed). */
  release(): void;
}

/**
 * Counts unauthenticated connections per address and in total.
 *
 * @example
 * ```ts
 * import { ConnectionCaps } from "@fastchat/lib/connection_caps";
 * const caps = new ConnectionCaps({ maxTotal: 2, maxPerAddress: 1 });
 * console.log(caps.admit("a") !== null, caps.admit("a") === null, caps.total); // true true 1
 * ```
 */
export class ConnectionCaps {
  readonly limits: ConnectionCapLimits;
  readonly #byAddress = new Map<string, number>();
  #total = 0;
  /** Connections refused since start. */
  refused = 0;

  constructor(limits: ConnectionCapLimits) {
    for (const [k, v] of Object.entries(limits)) {
      if (!Number.isSafeInteger(v) || v < 1) {
        throw new RangeError(`${k} must be a positive integer`);
      }
    }
    this.limits = { ...limits };
  }

  /** Unauthenticated connections counted now. */
  get total(): number {
    return this.#total;
  }

  /** Unauthenticated connections counted now from `addr`. */
  countOf(addr: string): number {
    return this.#byAddress.get(addr) ?? 0;
  }

  /** Counts one more connection from `addr`, or returns null if a cap is reached. */
  admit(addr: string): CapSlot | null {
    const n = this.#byAddress.get(addr) ?? 0;
    if (this.#total >= this.limits.maxTotal || n >= this.limits.maxPerAddress) {
      this.refused++;
      return null;
    }
    this.#total++;
    this.#byAddress.set(addr, n + 1);
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.#total--;
        const left = (this.#byAddress.get(addr) ?? 1) - 1;
        if (left === 0) this.#byAddress.delete(addr);
        else this.#byAddress.set(addr, left);
      },
    };
  }
}

/**
 * Refuses a connection at once: writes one `RATE_LIMITED` error frame (with
 * a retry time) and closes it, reading nothing. Never throws; resolves when
 * the socket is closed.
 *
 * @example
 * ```ts
 * import { refuseConnection } from "@fastchat/lib/connection_caps";
 * declare const conn: Deno.Conn;
 * await refuseConnection(conn, "too many unauthenticated connections from your address");
 * ```
 */
export async function refuseConnection(conn: Deno.Conn, message: string): Promise<void> {
  const frame = encodeFrame(encodePayload({
    t: "error",
    code: "RATE_LIMITED",
    message,
    retry: REFUSAL_RETRY_MS,
  }));
  // A fresh socket's send buffer takes a small frame in one write; a TLS
  // handshake the peer never completes is cut short by the timer.
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    conn.write(frame).catch((_e) => {
      // The peer is already gone; closing below is all that is left to do.
    }),
    new Promise<void>((r) => timer = setTimeout(r, REFUSAL_WRITE_TIMEOUT_MS)),
  ]);
  clearTimeout(timer);
  closeIfOpen(conn);
}
