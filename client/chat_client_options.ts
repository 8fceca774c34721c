/**
 * The options of a `ChatClient` (`chat_client.ts`): where its server is,
 * where its home is, and what it keeps and reports.
 *
 * @example
 * ```ts
 * import type { ChatClientOptions } from "@fastchat/client/chat_client_options";
 * const opts: ChatClientOptions = { server: { host: "127.0.0.1", port: 7701 } };
 * ```
 * @module
 */
import type { Identity } from "@fastchat/lib/crypto";
import type { ClientEvent } from "./events.ts";
import type { ServerTarget } from "./session_connector.ts";

/**
 * Options of a `ChatClient`.
 *
 * @example
 * ```ts
 * import type { ChatClientOptions } from "@fastchat/client/chat_client_options";
 * const opts: ChatClientOptions = { server: { host: "127.0.0.1", port: 7701 }, history: false };
 * ```
 */
export interface ChatClientOptions {
  /**
   * The server, or a function choosing one on each (re)connect — e.g.
   * `viaLoadBalancer` (`lb_client.ts`), which asks a load balancer for a ticket.
   */
  server: ServerTarget | (() => Promise<ServerTarget>);
  /** TLS with optional extra trusted roots (PEM). */
  tls?: { caCerts?: string[] };
  /** Home root; the user's files go to `<root>/<user>` (default `~/.fastchat`). */
  homeRoot?: string;
  /** Keep an encrypted local history (default true). */
  history?: boolean;
  /** PBKDF2 iterations for new accounts (default 600,000; at least 100,000). */
  kdfIterations?: number;
  /** Reconnect and resume automatically after a lost connection (default true). */
  reconnect?: boolean;
  /** Ping a quiet server after this long; 3 quiet intervals mean a dead link (default 10 s; 0: off). */
  pingMs?: number;
  /** Receives every event. */
  onEvent?: (e: ClientEvent) => void;
  /**
   * Makes the identity of a new account (default: a fresh RSA-OAEP +
   * Ed25519 identity). Load tests that register thousands of users may hand
   * out identities from a small pre-generated pool instead.
   */
  newIdentity?: () => Promise<Identity>;
}
