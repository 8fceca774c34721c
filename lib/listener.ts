/**
 * Listening for FastChat peers: a TCP or TLS listener, and the accept loop
 * every component runs (no-delay sockets, refusal while closing, errors of
 * one connection never stopping the loop).
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

/** Opens a TCP or TLS listener. */
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

/**
 * Accepts connections until the listener closes, handing each to `serve`.
 * Resolves when the listener is closed.
 */
export async function acceptLoop(
  listener: Deno.Listener,
  opts: {
    closing: () => boolean;
    serve: (conn: Deno.Conn) => Promise<void>;
    logger?: Logger;
  },
): Promise<void> {
  const log = opts.logger ?? nullLogger;
  try {
    for await (const conn of listener) {
      if (opts.closing()) {
        conn.close();
        continue;
      }
      if (conn.remoteAddr.transport === "tcp") {
        try {
          (conn as Deno.TcpConn).setNoDelay?.(true);
        } catch { /* TLS connections may not support it */ }
      }
      opts.serve(conn).catch((e) => log.warn("session_error", { error: String(e) }));
    }
  } catch (e) {
    if (!opts.closing()) log.error("accept_failed", { error: String(e) });
  }
}
