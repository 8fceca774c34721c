/**
 * Listening for FastChat peers: a TCP or TLS listener, and the accept loop
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
import { type Logger, nullLogger } from "./logger.ts";

/** Where and how to listen. */
export interface ListenOptions {
  host: string;
  port: number;
  /** PEM certificate and key: serve TLS instead of plain TCP. */
  tls?: { cert: string; key: string };
}

/**
 * Opens a TCP or TLS listener.
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
  return opts.tls
    ? Deno.listenTls({
      hostname: opts.host,
      port: opts.port,
      cert: opts.tls.cert,
      key: opts.tls.key,
    })
    : Deno.listen({ hostname: opts.host, port: opts.port });
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
