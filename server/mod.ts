/**
 * FastChat chat server: {@link ChatServer} accepts clients, authenticates
 * them and routes end-to-end encrypted messages it cannot read.
 *
 * @example
 * ```ts
 * import postgres from "postgres";
 * import { ChatServer } from "@fastchat/server";
 * const s = await ChatServer.start({ port: 0, sql: postgres(Deno.env.get("DATABASE_URL")!) });
 * console.log(s.address);
 * ```
 * @module
 */
export * from "./chat_server.ts";
export { ChatStore } from "./store.ts";
export { MessageRouter } from "./message_router.ts";
export { WriteBehindQueue } from "./write_behind_queue.ts";
export { type Fabric, type FabricSink, LocalFabric } from "./fabric.ts";
