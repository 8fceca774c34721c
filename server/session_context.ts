/**
 * What a chat server's client sessions share: the limits applied to each
 * connection and the services a session calls (accounts, the message
 * router, rate limiters, caps on unauthenticated connections, groups,
 * files, tickets). See server/client_session.ts.
 *
 * @example
 * ```ts
 * import type { SessionLimits } from "@fastchat/server/session_context";
 * const tight: Partial<SessionLimits> = { authTimeoutMs: 2000, maxErrorsBeforeAuth: 3 };
 * ```
 * @module
 */
import type { ConnectionCaps } from "@fastchat/lib/connection_caps";
import type { Logger } from "@fastchat/lib/logger";
import type { AccountService } from "./accounts.ts";
import type { ClientSession } from "./client_session.ts";
import type { FileRequests } from "./file_requests.ts";
import type { GroupRequests } from "./group_requests.ts";
import type { MessageRouter } from "./message_router.ts";
import type { KeyedTokenBuckets } from "./rate_limiter.ts";
import type { TicketGate } from "./ticket_gate.ts";

/**
 * Limits applied to each connection.
 *
 * @example
 * ```ts
 * import type { SessionLimits } from "@fastchat/server/session_context";
 * const tight: Partial<SessionLimits> = { authTimeoutMs: 2000, maxErrorsBeforeAuth: 3 };
 * ```
 */
export interface SessionLimits {
  /** Frame limit after login (default 1 MiB). */
  maxFrame: number;
  /** Outbound queue limit before a slow reader is disconnected. */
  maxQueueBytes: number;
  /** A reader making no progress this long while output waits is disconnected. */
  writeStallMs: number;
  /** Time allowed for handshake and login. */
  authTimeoutMs: number;
  /** A connection that sends no frame this long is closed (0: never; default: none). */
  idleTimeoutMs?: number;
  /** Invalid frames tolerated before login / after login. */
  maxErrorsBeforeAuth: number;
  maxErrorsAfterAuth: number;
  /** Unauthenticated connections at most, in total (default 1,000). */
  maxPreAuthConnections: number;
  /** Unauthenticated connections at most from one address (default 32). */
  maxPreAuthPerAddress: number;
}

/**
 * Everything a session needs from its server.
 *
 * @example
 * ```ts
 * import type { SessionContext } from "@fastchat/server/session_context";
 * declare const ctx: SessionContext;
 * console.log(ctx.serverId, ctx.sessions.size);
 * ```
 */
export interface SessionContext {
  serverId: string;
  accounts: AccountService;
  /** Delivery, backlog and acknowledgements (and, through it, other servers). */
  router: MessageRouter;
  limits: SessionLimits;
  /** Counts unauthenticated connections against the caps of `limits`. */
  preAuth: ConnectionCaps;
  /** Message sends per user. */
  sendLimiter: KeyedTokenBuckets;
  /** Unauthenticated requests per address. */
  anonLimiter: KeyedTokenBuckets;
  logger: Logger;
  sessions: Set<ClientSession>;
  /** Group membership requests (none: this server has no groups). */
  groups?: GroupRequests;
  /** File uploads and downloads (none: this server takes no files). */
  files?: FileRequests;
  /** Verifies load-balancer tickets (none: tickets are not checked). */
  tickets?: TicketGate;
  /** Called when a connection ends, with the user (if any) and the reason. */
  onClosed?: (user: string, code: string | undefined) => void;
}
