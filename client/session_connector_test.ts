/**
 * The connector against a real chat server on loopback (PGlite) that the
 * tests stop and start again on the same port, as a restarted server would.
 */
import { expect } from "expect";
import { connectStore } from "@fastchat/db/connect";
import { FastChatError } from "@fastchat/lib/errors";
import { ChatServer } from "../server/chat_server.ts";
import { EventLog, openTestDb } from "@fastchat/testing";
import { LoginFlow, MIN_KDF_ITERATIONS } from "./login_flow.ts";
import {
  backoffMs,
  type ServerTarget,
  SessionConnector,
  type SessionConnectorOptions,
} from "./session_connector.ts";

type LinkEvent =
  | { event: "disconnected"; code: string }
  | { event: "resumed"; server: string }
  | { event: "expired"; code: string };

/** A chat server on a fixed port (after its first start) that can be stopped and started again. */
async function restartableServer() {
  const db = await openTestDb("pglite");
  const sql = connectStore(db.url, { max: 2 });
  const start = (port: number) => ChatServer.start({ sql, port, scrypt: { N: 1024, r: 8, p: 1 } });
  let server: ChatServer | null = await start(0);
  const port = server.port;
  return {
    port,
    async stop() {
      await server?.close();
      server = null;
    },
    async start() {
      server = await start(port);
    },
    async close() {
      await server?.close();
      await sql.end();
      await db.close();
    },
  };
}

/** A connector to `target` recording what it reports, and its logged-in session. */
function connector(
  target: SessionConnectorOptions["server"],
  extra: Partial<SessionConnectorOptions> = {},
) {
  const log = new EventLog<LinkEvent>();
  const state = { session: null as { user: string; token: string } | null };
  const link = new SessionConnector({
    server: target,
    onPush: () => {},
    session: () => state.session,
    onDisconnected: (e) => log.push({ event: "disconnected", code: e.code }),
    onResumed: (conn) => log.push({ event: "resumed", server: conn.serverId }),
    onExpired: (e) => {
      state.session = null;
      log.push({ event: "expired", code: e.code });
    },
    ...extra,
  });
  return { link, log, state };
}

Deno.test("SessionConnector: a lost session is reported, resumed with its token, and a request waits it out", async () => {
  const server = await restartableServer();
  const home = await Deno.makeTempDir();
  const { link, log, state } = connector({ host: "127.0.0.1", port: server.port });
  try {
    const flow = new LoginFlow({
      link,
      homeRoot: home,
      kdfIterations: MIN_KDF_ITERATIONS,
      emit: () => {},
    });
    const alice = await flow.register("alice", "alice-password-1");
    state.session = { user: alice.user, token: alice.token };

    await server.stop();
    await log.waitFor((e) => e.event === "disconnected");
    const asking = link.request({ t: "keys", user: "alice" }); // during the outage
    await server.start();
    await log.waitFor((e) => e.event === "resumed");
    expect((await asking).keys).toEqual(alice.publicKeys);
    expect(log.events.map((e) => e.event)).toEqual(["disconnected", "resumed"]);

    // A token the server no longer honours ends the session instead.
    await link.request({ t: "logout" });
    await server.stop();
    await log.waitForCount((e) => e.event === "disconnected", 2);
    await server.start();
    expect(await log.waitFor((e) => e.event === "expired")).toEqual({
      event: "expired",
      code: "INVALID_TOKEN",
    });
    expect(log.events.map((e) => e.event)).toEqual([
      "disconnected",
      "resumed",
      "disconnected",
      "expired",
    ]);
  } finally {
    await link.end();
    await server.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("SessionConnector: stop() ends a reconnect waiting out its backoff at once", async () => {
  const server = await restartableServer();
  const home = await Deno.makeTempDir();
  const { link, log, state } = connector({ host: "127.0.0.1", port: server.port }, {
    backoff: () => 3_600_000, // an hour: only stop() can end this wait
  });
  try {
    const flow = new LoginFlow({
      link,
      homeRoot: home,
      kdfIterations: MIN_KDF_ITERATIONS,
      emit: () => {},
    });
    const alice = await flow.register("alice", "alice-password-1");
    state.session = { user: alice.user, token: alice.token };
    await server.stop();
    await log.waitFor((e) => e.event === "disconnected");
    await link.end(); // the op sanitizer fails this test if the hour's timer were left armed
    await expect(link.request({ t: "keys", user: "alice" })).rejects.toMatchObject({
      code: "NOT_CONNECTED",
    });
    expect(log.events.map((e) => e.event)).toEqual(["disconnected"]);
  } finally {
    await link.end();
    await server.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("SessionConnector: logged out, a closed connection is no news and nothing reconnects", async () => {
  const server = await restartableServer();
  const { link, log } = connector({ host: "127.0.0.1", port: server.port });
  try {
    const conn = await link.connect();
    expect(await link.connect()).toBe(conn); // open: reused
    await server.stop();
    await conn.closedPromise;
    await link.synced(); // a closed connection does not leave a waiter hanging
    expect(log.events).toEqual([]);
    expect(link.send({ t: "ack", items: [] })).toBe(false);
  } finally {
    await link.end();
    await server.close();
  }
});

Deno.test("SessionConnector: a load balancer's ticket goes with one request; a used one means a new connection", async () => {
  const server = await restartableServer();
  let asked = 0;
  const viaLb = (): Promise<ServerTarget> =>
    Promise.resolve({ host: "127.0.0.1", port: server.port, ticket: `ticket-${++asked}` });
  const { link } = connector(viaLb);
  try {
    const first = await link.authConnection();
    expect(link.takeTicket()).toEqual({ ticket: "ticket-1" });
    expect(link.takeTicket()).toEqual({}); // single-use
    const second = await link.authConnection(); // e.g. a retry after a wrong password
    expect(second).not.toBe(first);
    expect(first.closed).toBe(true);
    expect(asked).toBe(2);
    expect(link.takeTicket()).toEqual({ ticket: "ticket-2" });
    expect(await link.connect()).toBe(second); // no ticket needed: the open one
    expect(asked).toBe(2);
  } finally {
    await link.end();
    await server.close();
  }
});

Deno.test("SessionConnector: without a load balancer an open connection is reused for login", async () => {
  const server = await restartableServer();
  const { link } = connector({ host: "127.0.0.1", port: server.port });
  try {
    const first = await link.authConnection();
    expect(link.takeTicket()).toEqual({});
    expect(await link.authConnection()).toBe(first);
  } finally {
    await link.end();
    await server.close();
  }
});

Deno.test("SessionConnector: a target's own TLS flag overrides the connector's (plain server behind a TLS LB)", async () => {
  const server = await restartableServer();
  // The connector's default is TLS (as for a client run with --tls); the target says plain.
  const plain = connector({ host: "127.0.0.1", port: server.port, tls: false }, {
    tls: { caCerts: [] },
  });
  const tls = connector({ host: "127.0.0.1", port: server.port }, { tls: { caCerts: [] } });
  try {
    expect((await plain.link.connect()).closed).toBe(false);
    // Without the flag the connector's TLS is used, which a plain server cannot answer.
    await expect(tls.link.connect()).rejects.toBeInstanceOf(FastChatError);
  } finally {
    await plain.link.end();
    await tls.link.end();
    await server.close();
  }
});

Deno.test("backoffMs: doubles from 100 ms up to 5 s, jittered in the upper half", () => {
  expect(backoffMs(0, () => 0)).toBe(50);
  expect(backoffMs(0, () => 1)).toBe(100);
  expect(backoffMs(3, () => 1)).toBe(800);
  expect(backoffMs(20, () => 0)).toBe(2500);
  expect(backoffMs(20, () => 1)).toBe(5000);
  const r = backoffMs(2);
  expect(r).toBeGreaterThanOrEqual(200);
  expect(r).toBeLessThanOrEqual(400);
});

Deno.test("SessionConnector: a request with no connection is NOT_CONNECTED", async () => {
  const { link } = connector({ host: "127.0.0.1", port: 1 });
  const err = await link.request({ t: "keys", user: "bob" }).catch((e) => e);
  expect(err).toBeInstanceOf(FastChatError);
  expect(err.code).toBe("NOT_CONNECTED");
  await link.end();
});
