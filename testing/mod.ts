/**
 * FastChat's shared test support (not published): throwaway databases,
 * error-code assertions, real server processes that tests start and kill,
 * in-process servers, raw protocol peers and event recorders. Every test of
 * every package imports it as `@fastchat/testing`; lib's own tests import
 * only `@fastchat/testing/assert_code`, so the bottom layer's tests do not
 * load the server, the load balancer or the database.
 *
 * @example
 * ```ts
 * import { DB_KINDS, EventLog, openTestDb, startServerProcess } from "@fastchat/testing";
 * for (const kind of DB_KINDS) {
 *   const db = await openTestDb(kind);
 *   const server = await startServerProcess(db.url);
 *   const log = new EventLog<{ event: string }>();
 *   // … connect clients with onEvent: log.push, await log.waitFor(…) …
 *   await server.proc.stop();
 *   await db.close();
 * }
 * ```
 * @module
 */
export * from "./admission.ts";
export * from "./assert_code.ts";
export * from "./event_log.ts";
export * from "./fake_registry.ts";
export * from "./free_ports.ts";
export * from "./in_process.ts";
export * from "./netns.ts";
export * from "./nats.ts";
export * from "./raw_peer.ts";
export * from "./raw_register.ts";
export * from "./script_run.ts";
export * from "./server_process.ts";
export * from "./test_db.ts";
export * from "./test_store.ts";
