/** GroupStore and GroupLog against PGlite and (when configured) real PostgreSQL. */
import { expect } from "expect";
import { codeOf, insertTestUsers } from "@fastchat/testing";
import type { Sql } from "postgres";
import { connectStore } from "@fastchat/db/connect";
import { decodeGroupEvent } from "@fastchat/lib/group_event";
import { GroupLog } from "./group_log.ts";
import { GroupStore } from "./group_store.ts";
import { DB_KINDS, openTestDb } from "@fastchat/testing";

async function withDb(kind: (typeof DB_KINDS)[number], fn: (sql: Sql) => Promise<void>) {
  const db = await openTestDb(kind);
  const sql = connectStore(db.url, { max: 3 });
  try {
    await insertTestUsers(sql, ["alice", "bob", "carol", "dave", "erin"]);
    await fn(sql);
  } finally {
    await sql.end();
    await db.close();
  }
}

const events = (entries: { body: Uint8Array; recipients: string[] }[]) =>
  entries.map((e) => ({ ...decodeGroupEvent(e.body), to: e.recipients }));

for (const kind of DB_KINDS) {
  Deno.test(`groups (${kind}): create, add, promote, remove, leave with their events`, async () => {
    await withDb(kind, async (sql) => {
      const groups = new GroupStore(sql);
      expect(events(await groups.create("alice", "team", ["bob", "bob", "alice"]))).toEqual([{
        group: "team",
        change: "created",
        user: "alice",
        by: "alice",
        members: ["alice", "bob"],
        to: ["alice", "bob"],
      }]);
      expect(events(await groups.add("alice", "team", "carol"))).toEqual([
        {
          group: "team",
          change: "added",
          user: "carol",
          by: "alice",
          to: ["alice", "bob", "carol"],
        },
      ]);
      expect(await groups.add("alice", "team", "carol")).toEqual([]); // already a member
      expect(events(await groups.promote("alice", "team", "bob"))).toEqual([
        {
          group: "team",
          change: "promoted",
          user: "bob",
          by: "alice",
          to: ["alice", "bob", "carol"],
        },
      ]);
      // The removed member is told, and is no longer a member afterwards.
      expect(events(await groups.remove("bob", "team", "carol"))).toEqual([
        {
          group: "team",
          change: "removed",
          user: "carol",
          by: "bob",
          to: ["alice", "bob", "carol"],
        },
      ]);
      expect(await groups.members("alice", "team")).toEqual([
        { user: "alice", admin: true },
        { user: "bob", admin: true },
      ]);
      expect(await groups.groupsOf("bob")).toEqual([{ name: "team", admin: true, members: 2 }]);
      expect(await groups.groupsOf("carol")).toEqual([]);
    });
  });

  Deno.test(`groups (${kind}): refusals carry their codes and change nothing`, async () => {
    await withDb(kind, async (sql) => {
      const groups = new GroupStore(sql, { maxMembers: 3 });
      await groups.create("alice", "team", ["bob"]);
      const before = await sql`select count(*)::int as n from group_log`;
      expect(await codeOf(groups.create("bob", "team", []))).toBe("GROUP_EXISTS");
      expect(await codeOf(groups.create("bob", "Bad Name", []))).toBe("INVALID_GROUP_NAME");
      expect(await codeOf(groups.create("bob", "x".repeat(33), []))).toBe("INVALID_GROUP_NAME");
      expect(await codeOf(groups.create("bob", "other", ["zed"]))).toBe("UNKNOWN_USER");
      expect(await codeOf(groups.create("bob", "big", ["alice", "carol", "dave"]))).toBe(
        "GROUP_FULL",
      );
      expect(await codeOf(groups.add("bob", "team", "carol"))).toBe("NOT_GROUP_ADMIN");
      expect(await codeOf(groups.add("carol", "team", "dave"))).toBe("NOT_GROUP_MEMBER");
      expect(await codeOf(groups.add("alice", "nope", "dave"))).toBe("UNKNOWN_GROUP");
      expect(await codeOf(groups.add("alice", "team", "zed"))).toBe("UNKNOWN_USER");
      expect(await codeOf(groups.remove("bob", "team", "alice"))).toBe("NOT_GROUP_ADMIN");
      expect(await codeOf(groups.remove("alice", "team", "carol"))).toBe("NOT_GROUP_MEMBER");
      expect(await codeOf(groups.promote("bob", "team", "bob"))).toBe("NOT_GROUP_ADMIN");
      expect(await codeOf(groups.leave("carol", "team"))).toBe("NOT_GROUP_MEMBER");
      expect(await codeOf(groups.members("carol", "team"))).toBe("NOT_GROUP_MEMBER");
      expect(await codeOf(groups.members("carol", "nope"))).toBe("UNKNOWN_GROUP");
      await groups.add("alice", "team", "carol");
      expect(await codeOf(groups.add("alice", "team", "dave"))).toBe("GROUP_FULL");
      const after = await sql`select count(*)::int as n from group_log`;
      expect(after[0].n).toBe(before[0].n + 1); // only the one successful add
      expect((await groups.members("alice", "team")).map((m) => m.user)).toEqual([
        "alice",
        "bob",
        "carol",
      ]);
    });
  });

  Deno.test(`groups (${kind}): the last admin leaving promotes the oldest member`, async () => {
    await withDb(kind, async (sql) => {
      const groups = new GroupStore(sql);
      await groups.create("alice", "team", ["carol", "bob"]);
      await groups.add("alice", "team", "dave");
      expect(events(await groups.leave("alice", "team"))).toEqual([
        {
          group: "team",
          change: "left",
          user: "alice",
          by: "alice",
          to: ["alice", "bob", "carol", "dave"],
        },
        {
          group: "team",
          change: "promoted",
          user: "carol",
          by: "alice",
          to: ["bob", "carol", "dave"],
        },
      ]);
      expect(await groups.members("carol", "team")).toEqual([
        { user: "carol", admin: true },
        { user: "bob", admin: false },
        { user: "dave", admin: false },
      ]);
      // An admin remains: no promotion.
      expect(events(await groups.leave("bob", "team")).map((e) => e.change)).toEqual(["left"]);
      await groups.leave("dave", "team");
      await groups.leave("carol", "team");
      expect(await codeOf(groups.members("carol", "team"))).toBe("UNKNOWN_GROUP");
      // The name is free again.
      await groups.create("erin", "team", []);
    });
  });

  Deno.test(`group log (${kind}): one row per message, pending per member, membership enforced`, async () => {
    await withDb(kind, async (sql) => {
      const groups = new GroupStore(sql);
      const log = new GroupLog(sql);
      await groups.create("alice", "team", ["bob", "carol"]);
      const body = (n: number) => new Uint8Array(32).fill(n);
      const res = await log.append([
        { group: "team", sender: "alice", id: "m-alice-1", body: body(1), sentAt: 1 },
        { group: "team", sender: "dave", id: "m-dave-01", body: body(2), sentAt: 2 },
        { group: "nope", sender: "alice", id: "m-alice-2", body: body(3), sentAt: 3 },
        { group: "team", sender: "bob", id: "m-bob-001", body: body(4), sentAt: 4 },
        { group: "team", sender: "alice", id: "m-alice-1", body: body(1), sentAt: 1 },
      ]);
      expect(res.map((r) => r.status)).toEqual([
        "stored",
        "not_member",
        "not_member",
        "stored",
        "stored", // the same message twice in one batch is one row
      ]);
      const stored = res.filter((r) => r.status === "stored");
      expect(stored[0].entry.recipients).toEqual(["bob", "carol"]);
      expect(stored[1].entry.recipients).toEqual(["alice", "carol"]);
      expect(
        (await log.append([
          { group: "team", sender: "alice", id: "m-alice-1", body: body(1), sentAt: 1 },
        ]))[0].status,
      ).toBe("duplicate");
      const rows = await sql`select count(*)::int as n from group_log where kind = 2`;
      expect(rows[0].n).toBe(2);
      // A member added later gets nothing sent before; a removed one nothing after.
      await groups.add("alice", "team", "dave");
      await groups.remove("alice", "team", "carol");
      await log.append([{
        group: "team",
        sender: "bob",
        id: "m-bob-002",
        body: body(5),
        sentAt: 5,
      }]);
      const pending = async (u: string) =>
        (await log.pendingFor(u, 0, 100)).map((e) => e.kind === 2 ? e.id : "event");
      expect(await pending("carol")).toEqual(["event", "m-alice-1", "m-bob-001", "event", "event"]);
      expect(await pending("dave")).toEqual(["event", "event", "m-bob-002"]);
      expect(await pending("alice")).toEqual(["event", "m-bob-001", "event", "event", "m-bob-002"]);
      const [first] = await log.pendingFor("carol", 0, 1);
      expect(first.body.length).toBeGreaterThan(0);
      expect((await log.pendingFor("carol", first.seq, 100)).length).toBe(4);
    });
  });

  Deno.test(`group log (${kind}): acknowledgements clear pending rows, then the message`, async () => {
    await withDb(kind, async (sql) => {
      const groups = new GroupStore(sql);
      const log = new GroupLog(sql);
      await groups.create("alice", "team", ["bob", "carol"]);
      await log.append([
        { group: "team", sender: "alice", id: "m-alice-1", body: new Uint8Array(8), sentAt: 1 },
      ]);
      const count = async () =>
        (await sql`select count(*)::int as n from group_log where kind = 2`)[0].n;
      // Someone else's ack, or an ack of a message one never had, changes nothing.
      expect(await log.complete([{ user: "dave", sender: "alice", id: "m-alice-1" }])).toBe(0);
      expect(await log.complete([{ user: "bob", sender: "alice", id: "m-alice-1" }])).toBe(1);
      expect(await log.complete([{ user: "bob", sender: "alice", id: "m-alice-1" }])).toBe(0);
      expect(await count()).toBe(1);
      expect(await log.complete([{ user: "carol", sender: "alice", id: "m-alice-1" }])).toBe(1);
      expect(await count()).toBe(0);
    });
  });
}
