/** GroupDelivery against PGlite and (when configured) PostgreSQL, with a recording fabric. */
import { expect } from "expect";
import type { Sql } from "postgres";
import { connectStore } from "@fastchat/db/connect";
import type { FastChatError } from "@fastchat/lib/errors";
import { DB_KINDS, insertTestUsers, openTestDb } from "@fastchat/testing";
import { LocalFabric } from "./fabric.ts";
import { GroupDelivery, type GroupSender } from "./group_delivery.ts";
import { GroupLog } from "./group_log.ts";
import { GroupStore } from "./group_store.ts";
import type { ForwardedGroupMessage } from "./peer_protocol.ts";

class Sender implements GroupSender {
  sent: string[] = [];
  refused: [string, string][] = [];
  constructor(readonly user: string) {}
  confirmSent(id: string): void {
    this.sent.push(id);
  }
  rejectSent(id: string, err: FastChatError): void {
    this.refused.push([id, err.code]);
  }
}

/** Users online on other servers; records what is forwarded. */
class TwoServers extends LocalFabric {
  forwards: [string, ForwardedGroupMessage][] = [];
  override serversOf(user: string): Iterable<string> {
    return user === "carol" || user === "dave" ? ["fc-2"] : [];
  }
  override forwardGroup(server: string, m: ForwardedGroupMessage): void {
    this.forwards.push([server, m]);
  }
}

async function withDb(kind: (typeof DB_KINDS)[number], fn: (sql: Sql) => Promise<void>) {
  const db = await openTestDb(kind);
  const sql = connectStore(db.url, { max: 3 });
  try {
    await insertTestUsers(sql, ["alice", "bob", "carol", "dave", "eve"]);
    await fn(sql);
  } finally {
    await sql.end();
    await db.close();
  }
}

const send = (id: string, to = "team") => ({
  t: "send" as const,
  id,
  to,
  kind: "group" as const,
  ts: 1,
  body: new Uint8Array([1, 2, 3]),
});

for (const kind of DB_KINDS) {
  Deno.test(`group delivery (${kind}): stored first, confirmed, delivered here, forwarded once per server`, async () => {
    await withDb(kind, async (sql) => {
      await new GroupStore(sql).create("alice", "team", ["bob", "carol", "dave"]);
      const fabric = new TwoServers();
      const local: [string, string][] = [];
      const groups = new GroupDelivery(new GroupLog(sql), fabric, {
        deliverLocal: (user, _payload, sender, id) => {
          if (user !== "bob") return 0;
          local.push([user, `${sender}\n${id}`]);
          return 1;
        },
      });
      const alice = new Sender("alice");
      const eve = new Sender("eve");
      groups.accept(alice, send("m-alice-01"));
      groups.accept(alice, send("m-alice-02"));
      groups.accept(eve, send("m-eve-0001"));
      groups.accept(alice, send("m-alice-03", "nope"));
      await groups.flush();
      expect(alice.sent).toEqual(["m-alice-01", "m-alice-02"]);
      expect(alice.refused).toEqual([["m-alice-03", "NOT_GROUP_MEMBER"]]);
      expect(eve.refused).toEqual([["m-eve-0001", "NOT_GROUP_MEMBER"]]);
      expect(local).toEqual([["bob", "alice\nm-alice-01"], ["bob", "alice\nm-alice-02"]]);
      // One forward per message to fc-2, naming both members there; in order.
      expect(fabric.forwards.map(([s, m]) => [s, m[0], m[2], m[4]])).toEqual([
        ["fc-2", "m-alice-01", "team", ["carol", "dave"]],
        ["fc-2", "m-alice-02", "team", ["carol", "dave"]],
      ]);
      const rows = await sql`select count(*)::int as n from group_log where kind = 2`;
      expect(rows[0].n).toBe(2);
      // A resend (after a reconnect) is confirmed again and not stored twice.
      groups.accept(alice, send("m-alice-01"));
      await groups.flush();
      expect(alice.sent).toEqual(["m-alice-01", "m-alice-02", "m-alice-01"]);
      expect((await sql`select count(*)::int as n from group_log where kind = 2`)[0].n).toBe(2);
      // Acks of every member remove both messages.
      for (const u of ["bob", "carol", "dave"]) {
        groups.ack(u, [["alice", "m-alice-01"], ["alice", "m-alice-02"]]);
      }
      await groups.flush();
      expect((await sql`select count(*)::int as n from group_log`)[0].n).toBe(1); // the event
    });
  });

  Deno.test(`group delivery (${kind}): forwarded messages reach the listed members here`, async () => {
    await withDb(kind, (sql) => {
      const got: string[] = [];
      const groups = new GroupDelivery(new GroupLog(sql), new LocalFabric(), {
        deliverLocal: (user) => (got.push(user), 1),
      });
      groups.deliverForwarded([["m-00000001", "alice", "team", new Uint8Array(1), [
        "bob",
        "carol",
      ]]]);
      expect(got).toEqual(["bob", "carol"]);
      expect(groups.stats.delivered).toBe(2);
      return Promise.resolve();
    });
  });

  Deno.test(`group delivery (${kind}): settled(sender) resolves once its queued sends are stored`, async () => {
    await withDb(kind, async (sql) => {
      await new GroupStore(sql).create("alice", "team", ["bob"]);
      const groups = new GroupDelivery(new GroupLog(sql), new LocalFabric(), {
        deliverLocal: () => 0,
      });
      const alice = new Sender("alice");
      const bob = new Sender("bob");
      expect(groups.settled(alice)).toBeUndefined(); // nothing queued: no wait
      groups.accept(alice, send("m-alice-01"));
      groups.accept(alice, send("m-alice-02", "nope"));
      const waiting = groups.settled(alice)!;
      expect(waiting).toBeInstanceOf(Promise);
      expect(groups.settled(bob)).toBeUndefined(); // only alice's sends count for alice
      await waiting;
      // Both settled: one stored, one refused; nothing left to wait for.
      expect(alice.sent).toEqual(["m-alice-01"]);
      expect(alice.refused).toEqual([["m-alice-02", "NOT_GROUP_MEMBER"]]);
      expect(groups.settled(alice)).toBeUndefined();
      await groups.flush();
    });
  });
}
