/**
 * Listening for FastChat peers: a TCP or TLS listener (a taken port is
 * `ADDRESS_IN_USE`, naming the flag that picks another), and the accept loop
 * every component runs (no-delay sockets, refusal while closing, errors of
 * one connection never stopping the loop, and accept errors such as EMFILE
 * "too many open files" retried with backoff instead of ending the loop).
 *
 * @example
 * ```ts
 * import { acceptLoop, listen } from "@fastchat/lib/listener";
 * const listener = listen({ host: "127.0.0.1", port: 0 });
 * let closing = false;
 * const done = acceptLoop(listener, {
 *   closing: () => closing,
 *   serve: async (conn) => conn.close(),
 * });
 * closing = true;
 * listener.close();
 * await done;
 * ```
 * @module
 */
import { FastChatError } from "./errors.ts";
import { type Logger, nullLogger } from "./logger.ts";

/** Where and how to listen. */
export interface ListenOptions {
  host: string;
  port: number;
  /** PEM certificate and key: serve TLS instead of plain TCP. */
  tls?: { cert: string; key: string };
  /** The flag that chooses this port, named when it is taken (default `--port`). */
  flag?: string;
}

/**
 * The `ADDRESS_IN_USE` error of a listener that cannot bind `host:port`
 * because something else listens there; `flag` is the option that picks
 * another port.
 *
 * @example
 * ```ts
 * import { addressInUse } from "@fastchat/lib/listener";
 * const e = addressInUse("127.0.0.1", 7700, "--port");
 * console.log(e.code, e.message); // ADDRESS_IN_USE 127.0.0.1:7700 is already in use (…)
 * ```
 */
export function addressInUse(
  host: string,
  port: number,
  flag = "--port",
  cause?: unknown,
): FastChatError<"ADDRESS_IN_USE"> {
  return new FastChatError(
    "ADDRESS_IN_USE",
    `${host}:${port} is already in use (is another FastChat running? choose another port with ${flag})`,
    { host, port, flag },
    { cause },
  );
}

/**
 * Whether `e` is a bind failure because the address is taken (Deno's
 * `AddrInUse`, or Node's `EADDRINUSE` from `node:net`).
 *
 * @example
 * ```ts
 * import { isAddressInUse } from "@fastchat/lib/listener";
 * console.log(isAddressInUse(new Deno.errors.AddrInUse("taken"))); // true
 * ```
 */
export function isAddressInUse(e: unknown): boolean {
  return e instanceof Deno.errors.AddrInUse ||
    (typeof e === "object" && e !== null && (e as { code?: unknown }).code === "EADDRINUSE");
}

/**
 * Opens a TCP or TLS listener. A port something else listens on is
 * `ADDRESS_IN_USE` (see {@link addressInUse}); other failures are thrown as
 * they are.
 *
 * @example
 * ```ts
 * import { listen } from "@fastchat/lib/listener";
 * const l = listen({ host: "127.0.0.1", port: 0 });
 * console.log((l.addr as Deno.NetAddr).port);
 * l.close();
 * ```
 */
export function listen(opts: ListenOptions): Deno.Listener {
  try {
    return opts.tls
      ? Deno.listenTls({
        hostname: opts.host,
        port: opts.port,
        cert: opts.tls.cert,
        key: opts.tls.key,
      })
      : Deno.listen({ hostname: opts.host, port: opts.port });
  } catch (e) {
    if (isAddressInUse(e)) throw addressInUse(opts.host, opts.port, opts.flag, e);
    throw e;
  }
}

/**
 * Fails with `ADDRESS_IN_USE` now if `host:port` cannot be bound because it
 * is taken, so a program can say so before it starts anything else (port 0
 * always passes). The port is released again at once: this is a check, not
 * a reservation.
 *
 * @example
 * ```ts
 * import { checkPortFree } from "@fastchat/lib/listener";
 * checkPortFree("127.0.0.1", 0, "--port"); // any free port: nothing to check
 * ```
 */
export function checkPortFree(host: string, port: number, flag = "--port"): void {
  if (port === 0) return;
  listen({ host, port, flag }).close();
}

/** First wait after an accept error (ms); it doubles per error in a row. */
export const ACCEPT_BACKOFF_MIN_MS = 5;
/** Longest wait between accept attempts after errors (ms). */
export const ACCEPT_BACKOFF_MAX_MS = 1000;

/** Options of {@link acceptLoop}. */
export interface AcceptLoopOptions {
  /** True once the owner is shutting down: new connections are closed and the loop ends. */
  closing: () => boolean;
  /** Serves one connection; its rejection is logged, never fatal to the loop. */
  serve: (conn: Deno.Conn) => Promise<void>;
  logger?: Logger;
  /** Called with each accept error and the wait before the next attempt (metrics, tests). */
  onAcceptError?: (error: unknown, waitMs: number) => void;
}

/**
 * Accepts connections until the owner closes the listener, handing each to
 * `serve` (or closing it at once while `closing()` is true). An accept
 * error (e.g. EMFILE) is logged and retried after a backoff of 5 ms
 * doubling to 1 s, reset by the next success; the loop ends only when the
 * listener was closed.
 *
 * @example
 * ```ts
 * import { acceptLoop, listen } from "@fastchat/lib/listener";
 * const listener = listen({ host: "127.0.0.1", port: 0 });
 * const done = acceptLoop(listener, { closing: () => false, serve: async (c) => c.close() });
 * listener.close();
 * await done; // ends: the listener is closed
 * ```
 */
export async function acceptLoop(listener: Deno.Listener, opts: AcceptLoopOptions): Promise<void> {
  const log = opts.logger ?? nullLogger;
  let backoff = 0;
  while (true) {
    let conn: Deno.Conn;
    try {
      conn = await listener.accept();
    } catch (e) {
      if (opts.closing()) return;
      if (e instanceof Deno.errors.BadResource) {
        // Closed without `closing()` being set: nothing left to accept from.
        log.warn("listener_closed", { error: String(e) });
        return;
      }
      backoff = backoff === 0
        ? ACCEPT_BACKOFF_MIN_MS
        : Math.min(ACCEPT_BACKOFF_MAX_MS, backoff * 2);
      log.error("accept_failed", { error: String(e), retryMs: backoff });
      opts.onAcceptError?.(e, backoff);
      await new Promise((r) => setTimeout(r, backoff));
      continue;
    }
    backoff = 0;
    if (opts.closing()) {
      conn.close();
      continue;
    }
    if (conn.remoteAddr.transport === "tcp") {
      try {
        (conn as Deno.TcpConn).setNoDelay?.(true);
      } catch (e) {
        // TLS connections may not support it; a socket reset since accept is served and fails there.
        log.debug("no_delay_failed", { error: String(e) });
      }
    }
    opts.serve(conn).catch((e) => log.warn("session_error", { error: String(e) }));
  }
}
