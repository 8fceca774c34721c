/**
 * FastChat client library: {@link ChatClient} does registration, login,
 * end-to-end encryption and delivery; the terminal client is `main.ts`.
 *
 * @example
 * ```ts
 * import { ChatClient } from "@fastchat/client";
 * const c = new ChatClient({ server: { host: "127.0.0.1", port: 7701 } });
 * await c.login("alice", "a long passphrase");
 * await c.send("bob", "hi");
 * ```
 * @module
 */
export * from "./chat_client.ts";
export * from "./events.ts";
export { ServerConnection, type ServerConnectionOptions } from "./server_connection.ts";
