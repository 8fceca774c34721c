/**
 * PresenceRetry: a login announcement another server confirms too late (its
 * write of a message for the user is held up) is repeated until confirmed,
 * and the user then gets what that server held. Two in-process chat servers
 * linked server to server over real PostgreSQL (a table lock holds the slow
 * server's write: PGlite serves one connection at a time, so it cannot);
 * raw protocol clients. The loop itself on its own below.
 */
import { expect } from "expect";
import { waitUntil } from "@fastchat/lib/wait_until";
import { connectStore } from "@fastchat/db/connect";
import {
  closePeersAndServers,
  connectRegistered,
  openTestDb,
  RawPeer,
  startLinkedServers,
  TEST_PG_URL,
} from "@fastchat/testing";
import { holdTableWrites, type TableHold } from "@fastchat/testing/table_lock";
import type { ChatServer } from "./chat_server.ts";
import { PresenceRetry } from "./presence_retry.ts";

Deno.test({
  name:
    "presence retry (postgres): a login confirmed late by a slow server still gets what it held",
  ignore: !TEST_PG_URL,
  async fn() {
    const db = await openTestDb("postgres");
    const pools = [0, 1, 2].map(() => connectStore(db.url, { max: 4 }));
    const servers: ChatServer[] = [];
    const peers: RawPeer[] = [];
    let hold: TableHold | undefined;
    try {
      await startLinkedServers(pools.slice(0, 2), servers);
      const [a, b] = servers;
      const { peer: bob, token } = await connectRegistered(a.host, a.port, "bob");
      const bobGone = a.sessionClosed((u) => u === "bob");
      bob.close();
      await bobGone;
      const { peer: alice } = await connectRegistered(b.host, b.port, "alice");
      peers.push(alice);

      // b's write of alice's message is held up: b cannot confirm bob's login in time.
      hold = await holdTableWrites(pools[2], "messages");
      await alice.send({
        t: "send",
        id: "held000001",
        to: "bob",
        kind: "dm",
        ts: 1000,
        body: new TextEncoder().encode("ct-held"),
      });
      // Accepted by b (its write waits for the lock), not yet stored.
      await waitUntil(() => b.router.stats.accepted === 1, 15_000, "b to accept the message");

      // bob logs in on a: a gives up waiting for b, so bob's backlog misses the message.
      const bob2 = await RawPeer.connect(a.host, a.port);
      peers.push(bob2);
      await bob2.send({ t: "hello", v: 1 });
      await bob2.send({ t: "resume", rid: 1, token });
      const reply = await bob2.waitFrame((f) => "rid" in f && f.rid === 1);
      expect(reply.t).toBe("ok");
      await bob2.waitFrame((f) => f.t === "synced");
      expect(bob2.frames.some((f) => f.t === "msg")).toBe(false);

      // b's write goes through: bob gets the message while still online, once.
      await hold.release();
      const msg = await bob2.waitFrame((f) => f.t === "msg");
      expect(msg).toMatchObject({ id: "held000001", from: "alice", to: "bob" });
      await bob2.send({ t: "ack", items: [["alice", "held000001"]] });
      await alice.waitFrame((f) => f.t === "delivered");
    } finally {
      await hold?.release();
      await closePeersAndServers(peers, servers);
      for (const sql of pools) await sql.end();
      await db.close();
    }
  },
});

Deno.test("presence retry: repeats with backoff until confirmed, then once; stops when the user left", async () => {
  const calls: string[] = [];
  let answers = [false, false, true];
  let online = true;
  let confirmed!: (u: string) => void;
  const done = new Promise<string>((r) => confirmed = r);
  const retry = new PresenceRetry({
    announce: (u) => (calls.push(u), Promise.resolve(answers.shift())),
    online: () => online,
    confirmed: (u) => confirmed(u),
    firstDelayMs: 1,
    maxDelayMs: 4,
  });
  retry.start("bob");
  retry.start("bob"); // one loop per user
  expect(await done).toBe("bob");
  expect(calls).toEqual(["bob", "bob", "bob"]);
  await waitUntil(() => retry.retrying === 0, 1_000, "the loop to end");

  // Gone before confirmation: it stops, nothing confirmed.
  answers = [false];
  let stopped = false;
  const retry2 = new PresenceRetry({
    announce: () => {
      online = false;
      return Promise.resolve(answers.shift() ?? false);
    },
    online: () => online,
    confirmed: () => stopped = true,
    firstDelayMs: 1,
  });
  online = true;
  retry2.start("carol");
  await waitUntil(() => retry2.retrying === 0, 1_000, "the loop to stop");
  expect(stopped).toBe(false);
  retry2.start("dave");
  retry2.close(); // no timer left behind (the op sanitizer checks)
  retry.close();
});

Deno.test("presence retry: logs users under presence_*, other subjects without a user field", async () => {
  const events: [string, Record<string, unknown> | undefined][] = [];
  const logger = {
    debug: (e: string, f?: Record<string, unknown>) => events.push([e, f]),
    info: (e: string, f?: Record<string, unknown>) => events.push([e, f]),
    warn: (e: string, f?: Record<string, unknown>) => events.push([e, f]),
    error: (e: string, f?: Record<string, unknown>) => events.push([e, f]),
  };
  for (const subject of [undefined, "link_up_flush"]) {
    let confirmed!: () => void;
    const done = new Promise<void>((r) => confirmed = r);
    const retry = new PresenceRetry({
      announce: () => Promise.resolve(true),
      online: () => true,
      confirmed: () => confirmed(),
      firstDelayMs: 1,
      subject,
      logger,
    });
    retry.start(subject ? " link up" : "bob");
    await done;
    retry.close();
  }
  expect(events).toEqual([
    ["presence_unconfirmed", { user: "bob" }],
    ["presence_confirmed", { user: "bob" }],
    ["link_up_flush_unconfirmed", {}],
    ["link_up_flush_confirmed", {}],
  ]);
});

Deno.test("presence retry: a first timeout is info; a warning only once a retry is unconfirmed too", async () => {
  const events: string[] = [];
  const at = (level: string) => (e: string) => events.push(`${level} ${e}`);
  const logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  let calls = 0;
  let confirmed!: () => void;
  const done = new Promise<void>((r) => confirmed = r);
  const retry = new PresenceRetry({
    // Unconfirmed twice more, then confirmed.
    announce: () => Promise.resolve(++calls > 2),
    online: () => true,
    confirmed: () => confirmed(),
    firstDelayMs: 1,
    maxDelayMs: 4,
    subject: "link_up_flush",
    logger,
  });
  retry.start(" link up");
  await done;
  retry.close();
  expect(calls).toBe(3);
  expect(events).toEqual([
    "info link_up_flush_unconfirmed",
    "warn link_up_flush_still_unconfirmed", // once, not per retry
    "info link_up_flush_confirmed",
  ]);
});
