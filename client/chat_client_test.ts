/**
 * The ChatClient façade against a real chat server on loopback (PGlite, and
 * PostgreSQL when `FASTCHAT_TEST_DATABASE_URL` is set): its public API and
 * the events it emits, in order.
 */
import { expect } from "expect";
import { connectStore } from "@fastchat/db/connect";
import { ChatServer } from "../server/chat_server.ts";
import { DB_KINDS, EventLog, openTestDb, withChatServer } from "@fastchat/testing";
import { ChatClient, type ClientEvent } from "./chat_client.ts";

const KDF = 100_000;

/** Clients of one server in their own home roots; `close()` closes them and removes the homes. */
async function clients(port: number) {
  const root = await Deno.makeTempDir({ prefix: "fastchat-client-" });
  const open: ChatClient[] = [];
  return {
    root,
    make(opts: { reconnect?: boolean } = {}): { client: ChatClient; log: EventLog<ClientEvent> } {
      const log = new EventLog<ClientEvent>();
      const client = new ChatClient({
        server: { host: "127.0.0.1", port },
        homeRoot: root,
        kdfIterations: KDF,
        onEvent: log.push,
        ...opts,
      });
      open.push(client);
      return { client, log };
    },
    async close(): Promise<void> {
      for (const c of open) await c.close();
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** The error code of `fn` (thrown or rejected), or "ok". */
const code = (fn: () => unknown) =>
  Promise.resolve().then(fn).then(() => "ok", (e) => e.code as string);

for (const kind of DB_KINDS) {
  Deno.test(`ChatClient (${kind}): register, send, receive, receipts, history, verify, logout, login`, async () => {
    const db = await openTestDb(kind);
    try {
      await withChatServer(db, {}, async (server) => {
        const c = await clients(server.port);
        try {
          const { client: alice, log: aliceLog } = c.make();
          const { client: bob, log: bobLog } = c.make();
          expect(await code(() => alice.send("bob", "too early"))).toBe("NOT_AUTHENTICATED");
          await alice.register("alice", "alice-password-1");
          await bob.register("bob", "bob-password-1");
          expect(alice.user).toBe("alice");
          expect(aliceLog.events).toEqual([
            {
              event: "ready",
              user: "alice",
              server: server.id,
              address: `127.0.0.1:${server.port}`,
            },
          ]);
          expect(alice.whoami()).toEqual({
            user: "alice",
            server: server.id,
            address: `127.0.0.1:${server.port}`,
          });
          expect(await code(() => alice.register("alice", "x-password-1"))).toBe(
            "ALREADY_AUTHENTICATED",
          );
          expect(await code(() => alice.send("Not A Name", "hi"))).toBe("INVALID_USERNAME");

          const id = await alice.send("bob", "hello bob");
          expect(await bobLog.waitFor((e) => e.event === "message")).toMatchObject({
            event: "message",
            id,
            from: "alice",
            to: "bob",
            text: "hello bob",
          });
          await aliceLog.waitFor((e) => e.event === "delivered");
          await alice.idle();
          expect(alice.unconfirmed).toBe(0);
          expect(aliceLog.events.slice(1)).toEqual([
            { event: "sent", id, to: "bob" },
            { event: "delivered", id, to: "bob" },
          ]);

          expect((await alice.history("bob")).map((r) => [r.from, r.text])).toEqual([
            ["alice", "hello bob"],
          ]);
          expect((await bob.history("alice")).map((r) => [r.from, r.text])).toEqual([
            ["alice", "hello bob"],
          ]);
          expect(await alice.verify("bob")).toEqual(await bob.verify("alice"));
          expect(await alice.pendingSafetyNumbers("bob")).toBeNull(); // no key change
          expect(await code(() => alice.trust("bob"))).toBe("BAD_REQUEST");

          await alice.persist();
          expect((await Deno.stat(`${c.root}/alice/state.sealed`)).mode! & 0o777).toBe(0o600);

          await alice.logout();
          expect(alice.user).toBeNull();
          expect(await code(() => alice.history("bob"))).toBe("NOT_AUTHENTICATED");
          await alice.login("alice", "alice-password-1");
          expect(aliceLog.events.filter((e) => e.event === "ready")).toHaveLength(2);
          expect(aliceLog.events.filter((e) => e.event === "error")).toEqual([]);
          expect(bobLog.events.filter((e) => e.event === "error")).toEqual([]);
        } finally {
          await c.close();
        }
      });
    } finally {
      await db.close();
    }
  });
}

Deno.test("ChatClient: a receipt stored while the sender was away is shown after ready, once", async () => {
  const db = await openTestDb("pglite");
  try {
    await withChatServer(db, {}, async (server) => {
      const c = await clients(server.port);
      try {
        const first = c.make();
        const bobFirst = c.make();
        await first.client.register("alice", "alice-password-1");
        await bobFirst.client.register("bob", "bob-password-1");
        await bobFirst.client.close(); // bob is away
        const id = await first.client.send("bob", "while you were away");
        await first.log.waitFor((e) => e.event === "sent"); // stored
        await first.client.close(); // and now alice is away

        const bob = c.make();
        await bob.client.login("bob", "bob-password-1"); // the backlog is processed by now
        expect(bob.log.events.filter((e) => e.event === "message")).toMatchObject([
          { id, text: "while you were away" },
        ]);
        await bob.client.close(); // the acknowledgement goes out

        const alice = c.make();
        await alice.client.login("alice", "alice-password-1");
        await alice.log.waitFor((e) => e.event === "delivered");
        expect(alice.log.events.map((e) => e.event)).toEqual(["ready", "delivered"]);
        expect(alice.log.events[1]).toEqual({ event: "delivered", id, to: "bob" });
      } finally {
        await c.close();
      }
    });
  } finally {
    await db.close();
  }
});

Deno.test("ChatClient: a restarted server — disconnected, reconnected, and a message sent meanwhile arrives", async () => {
  const db = await openTestDb("pglite");
  const sql = connectStore(db.url, { max: 2 });
  const start = (port: number) => ChatServer.start({ sql, port, scrypt: { N: 1024, r: 8, p: 1 } });
  let server = await start(0);
  const c = await clients(server.port);
  try {
    const alice = c.make();
    const bob = c.make();
    await alice.client.register("alice", "alice-password-1");
    await bob.client.register("bob", "bob-password-1");
    await alice.client.send("bob", "before"); // alice has bob's keys now
    await bob.log.waitFor((e) => e.event === "message");
    await alice.client.idle();

    await server.close();
    await alice.log.waitFor((e) => e.event === "disconnected");
    const id = await alice.client.send("bob", "during the outage");
    expect(alice.client.unconfirmed).toBe(1);
    server = await start(server.port);
    await alice.log.waitFor((e) => e.event === "reconnected");
    await alice.client.idle();
    expect(await bob.log.waitFor((e) => e.event === "message" && e.id === id)).toMatchObject({
      text: "during the outage",
    });
    const after = alice.log.events.slice(
      alice.log.events.findIndex((e) => e.event === "disconnected"),
    );
    expect(after.slice(0, 2)).toMatchObject([
      { event: "disconnected" },
      { event: "reconnected", user: "alice", server: server.id },
    ]);
    // The server's goodbye is passed on as it came; nothing else went wrong.
    expect(
      alice.log.events.filter((e) => e.event === "error" && e.code !== "SERVER_SHUTTING_DOWN"),
    ).toEqual([]);
  } finally {
    await c.close();
    await server.close();
    await sql.end();
    await db.close();
  }
});

Deno.test("ChatClient: trySend sends without a promise once the key is ready, else says null", async () => {
  const db = await openTestDb("pglite");
  try {
    await withChatServer(db, {}, async (server) => {
      const c = await clients(server.port);
      try {
        const alice = c.make();
        const bob = c.make();
        expect(alice.client.trySend("bob", "logged out")).toBeNull();
        await alice.client.register("alice", "alice-password-1");
        await bob.client.register("bob", "bob-password-1");
        expect(alice.client.trySend("bob", "no session key yet")).toBeNull();
        expect(alice.client.trySend("#team", "groups go through send")).toBeNull();
        expect(await code(() => alice.client.trySend("Not A Name", "hi"))).toBe(
          "INVALID_USERNAME",
        );
        await alice.client.send("bob", "first"); // makes the session key
        const id = alice.client.trySend("bob", "second");
        expect(id).not.toBeNull();
        await bob.log.waitFor((e) => e.event === "message" && e.id === id);
        await alice.log.waitFor((e) => e.event === "delivered" && e.id === id);
        await alice.client.idle();
        expect(bob.log.events.filter((e) => e.event === "message").map((e) => e.text)).toEqual([
          "first",
          "second",
        ]);
        expect((await alice.client.history("bob")).map((r) => r.text)).toEqual(["first", "second"]);
      } finally {
        await c.close();
      }
    });
  } finally {
    await db.close();
  }
});
