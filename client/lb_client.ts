/**
 * Asking a FastChat load balancer where to connect: one short connection
 * (`hello`, `ticket`, close) that returns a signed ticket and the chat
 * server it names. The client then connects to that server and presents the
 * ticket with `login`, `register` or `resume`, over TLS when the load
 * balancer says that server speaks TLS. {@link viaLoadBalancer} does
 * this on every (re)connect of a `ChatClient`, steering a reconnect away
 * from the servers it just used (failover).
 *
 * @example
 * ```ts
 * import { requestTicket } from "@fastchat/client/lb_client";
 * const t = await requestTicket({ host: "127.0.0.1", port: 7700 });
 * console.log(`connect to ${t.server} at ${t.host}:${t.port}${t.tls ? " with TLS" : ""}`);
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import { ServerConnection } from "./server_connection.ts";
import type { ServerTarget } from "./session_connector.ts";

/** Default timeout of {@link requestTicket}: connect, handshake and reply. */
export const DEFAULT_TICKET_TIMEOUT_MS = 5_000;

/**
 * Where the load balancer listens.
 *
 * @example
 * ```ts
 * import type { LbAddress } from "@fastchat/client/lb_client";
 * const lb: LbAddress = { host: "lb.example.org", port: 7700 };
 * ```
 */
export interface LbAddress {
  host: string;
  port: number;
}

/**
 * Options of {@link requestTicket}.
 *
 * @example
 * ```ts
 * import type { RequestTicketOptions } from "@fastchat/client/lb_client";
 * const opts: RequestTicketOptions = { tls: { caCerts: [] }, timeoutMs: 2_000 };
 * ```
 */
export interface RequestTicketOptions {
  /** Use TLS; `caCerts` (PEM) trusts extra roots such as a self-signed test CA. */
  tls?: { caCerts?: string[] };
  /** Timeout for connect+handshake and for the reply (default {@link DEFAULT_TICKET_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Server ids to avoid if the LB has another live one (servers just lost). */
  avoid?: string[];
}

/**
 * A load balancer's answer: the ticket and the chat server it is good for.
 *
 * @example
 * ```ts
 * import type { LbTicket } from "@fastchat/client/lb_client";
 * declare const t: LbTicket;
 * console.log(t.server, `${t.host}:${t.port}`, t.ticket.length);
 * ```
 */
export interface LbTicket {
  /** Opaque signed ticket to present to the server. */
  ticket: string;
  /** Id of the chat server the ticket names. */
  server: string;
  /** Where that server listens. */
  host: string;
  port: number;
  /** Whether that port speaks TLS. */
  tls: boolean;
}

/**
 * Requests a ticket from the load balancer at `lb`. Throws
 * `CONNECT_FAILED` when the LB cannot be reached, `TIMEOUT` when it does
 * not answer in time, and otherwise the LB's own code (e.g. `NO_SERVERS`,
 * `RATE_LIMITED` with `details.retryMs`); `BAD_FRAME` for an incomplete
 * answer.
 *
 * @example
 * ```ts
 * import { requestTicket } from "@fastchat/client/lb_client";
 * try {
 *   const { ticket, host, port } = await requestTicket({ host: "127.0.0.1", port: 7700 });
 * } catch (e) {
 *   console.error((e as { code?: string }).code); // e.g. "NO_SERVERS"
 * }
 * ```
 */
export async function requestTicket(
  lb: LbAddress,
  opts: RequestTicketOptions = {},
): Promise<LbTicket> {
  const conn = await ServerConnection.connect({
    host: lb.host,
    port: lb.port,
    tls: opts.tls,
    timeoutMs: opts.timeoutMs ?? DEFAULT_TICKET_TIMEOUT_MS,
    onPush: () => {}, // a load balancer pushes nothing: it answers the one request
  });
  try {
    const ok = await conn.request(
      opts.avoid?.length ? { t: "ticket", avoid: opts.avoid.slice(0, 16) } : { t: "ticket" },
    );
    const { ticket, server, host, port, tls } = ok;
    if (
      ticket === undefined || server === undefined || host === undefined || port === undefined
    ) {
      throw new FastChatError(
        "BAD_FRAME",
        `load balancer ${lb.host}:${lb.port} sent an incomplete ticket reply`,
      );
    }
    return { ticket, server, host, port, tls: tls === true };
  } finally {
    conn.close();
  }
}

/**
 * A `server` option that asks the load balancer at `lb` for a live server
 * and a ticket on every (re)connect. The server is dialled with TLS when the
 * load balancer says it speaks TLS, trusting the roots of `opts.tls` (the
 * ones the load balancer connection trusts). A reconnect asks the LB to avoid the
 * servers this client used in the last 10 s (the one it just lost, and any
 * it failed to reach), since the registry needs a few seconds to notice a
 * dead server.
 *
 * @example
 * ```ts
 * import { ChatClient, viaLoadBalancer } from "@fastchat/client/chat_client";
 * const c = new ChatClient({ server: viaLoadBalancer({ host: "127.0.0.1", port: 7700 }) });
 * ```
 */
export function viaLoadBalancer(
  lb: LbAddress,
  opts: { tls?: { caCerts?: string[] } } = {},
): () => Promise<ServerTarget> {
  const recent: { id: string; at: number }[] = [];
  return async () => {
    const now = Date.now();
    const avoid = recent.filter((r) => now - r.at < RECENT_SERVER_MS).map((r) => r.id);
    const t = await requestTicket(lb, { tls: opts.tls, avoid });
    recent.push({ id: t.server, at: now });
    if (recent.length > 4) recent.shift();
    return {
      host: t.host,
      port: t.port,
      ticket: t.ticket,
      tls: t.tls ? { caCerts: opts.tls?.caCerts } : false,
    };
  };
}

/** How long a reconnect avoids a server this client used (see {@link viaLoadBalancer}). */
export const RECENT_SERVER_MS = 10_000;
