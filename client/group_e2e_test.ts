/**
 * Groups end to end: real clients, a real chat server on loopback (PGlite,
 * and PostgreSQL when configured): create, post, offline members, removal
 * with key rotation proven with the removed member's own keys, refusals.
 */
import { expect } from "expect";
import { connectStore } from "@fastchat/db/connect";
import { derivePasswordKeys, messageAad } from "@fastchat/lib/crypto";
import { openChatMessage } from "@fastchat/lib/crypto/chat_aead";
import { DB_KINDS, EventLog, openTestDb, withChatServer } from "@fastchat/testing";
import { ChatClient, type ClientEvent } from "./chat_client.ts";
import { parseBody } from "./message_body.ts";
import type { SenderKeySnapshot } from "./sender_keys.ts";
import { UserHome } from "./user_home.ts";

const KDF = 100_000;
const pw = (u: string) => `${u}-password-1`;

async function withUsers(
  port: number,
  names: string[],
  fn: (
    u: Record<string, { client: ChatClient; log: EventLog<ClientEvent> }>,
    reopen: (name: string) => Promise<{ client: ChatClient; log: EventLog<ClientEvent> }>,
    root: string,
  ) => Promise<void>,
) {
  const root = await Deno.makeTempDir({ prefix: "fastchat-group-" });
  const open: ChatClient[] = [];
  const make = () => {
    const log = new EventLog<ClientEvent>();
    const client = new ChatClient({
      server: { host: "127.0.0.1", port },
      homeRoot: root,
      kdfIterations: KDF,
      onEvent: log.push,
    });
    open.push(client);
    return { client, log };
  };
  try {
    const users: Record<string, { client: ChatClient; log: EventLog<ClientEvent> }> = {};
    for (const n of names) {
      users[n] = make();
      await users[n].client.register(n, pw(n));
    }
    await fn(users, async (n) => {
      const u = make();
      await u.client.login(n, pw(n));
      return u;
    }, root);
  } finally {
    for (const c of open) await c.close();
    await Deno.remove(root, { recursive: true });
  }
}

const texts = (log: EventLog<ClientEvent>, group: string) =>
  log.events.flatMap((e) =>
    e.event === "message" && "group" in e && e.group === group ? [`${e.from}: ${e.text}`] : []
  );

for (const kind of DB_KINDS) {
  Deno.test(`groups end to end (${kind}): members, offline delivery, removal rotates keys`, async () => {
    const db = await openTestDb(kind);
    try {
      await withChatServer(db, {}, async (server) => {
        await withUsers(server.port, ["alice", "bob", "carol", "dave"], async (u, reopen, root) => {
          const { alice, bob, carol, dave } = u;
          await alice.client.group("create", "team", ["bob", "carol", "dave"]);
          for (const x of [alice, bob, carol, dave]) {
            expect(await x.log.waitFor((e) => e.event === "group")).toEqual({
              event: "group",
              group: "team",
              change: "created",
              user: "alice",
              by: "alice",
              members: ["alice", "bob", "carol", "dave"],
            });
          }
          await alice.client.send("#team", "hello team");
          await bob.client.send("#team", "hi from bob");
          await alice.client.idle();
          // Handing out sender keys is the client's own business: no sent/delivered for it.
          expect(alice.log.events.filter((e) => e.event === "sent").length).toBe(1);
          expect(alice.log.events.filter((e) => e.event === "delivered")).toEqual([]);
          for (const x of [carol, dave]) {
            await x.log.waitFor(() => texts(x.log, "team").length === 2);
            expect(texts(x.log, "team").sort()).toEqual(["alice: hello team", "bob: hi from bob"]);
          }
          // Dave goes offline; what is sent meanwhile reaches him at his next login.
          await dave.client.close();
          await alice.client.send("#team", "while dave is away");
          await alice.client.idle();
          const dave2 = await reopen("dave");
          await dave2.log.waitFor(() => texts(dave2.log, "team").length === 1);
          expect(texts(dave2.log, "team")).toEqual(["alice: while dave is away"]);
          await dave2.client.close();

          // Every group key carol holds before her removal, read from her home with her password.
          await carol.client.persist();
          const home = UserHome.at(root, "carol");
          const kdf = (await home.readKdf())!;
          const { vaultKey } = await derivePasswordKeys(pw("carol"), kdf.salt, kdf.iter);
          const ring = (await home.readGroupKeys<SenderKeySnapshot>(vaultKey))!;
          const carolKeys = [
            ...Object.values(ring.mine).map(([, raw]) => raw),
            ...Object.values(ring.theirs).flatMap((m) =>
              Object.values(m).flatMap((ks) => ks.map(([, raw]) => raw))
            ),
          ];
          expect(carolKeys.length).toBeGreaterThan(0); // she did hold alice's old key

          // Carol is removed: everyone (carol too) hears it; the next message uses a new key.
          await alice.client.group("remove", "team", "carol");
          for (const x of [alice, bob, carol]) {
            await x.log.waitFor((e) => e.event === "group" && e.change === "removed");
          }
          await alice.client.send("#team", "after carol left");
          await bob.log.waitFor(() => texts(bob.log, "team").length === 3);
          expect(texts(bob.log, "team").at(-1)).toBe("alice: after carol left");
          await alice.client.idle();
          expect(texts(carol.log, "team")).not.toContain("alice: after carol left");

          // The removed member's own keys (from her home, opened with her password)
          // cannot open the message, which is still stored for dave (offline).
          const sql = connectStore(db.url, { max: 1 });
          try {
            const rows = await sql`select l.sender, l.id, l.body, l.sent_at from group_log l
              join group_pending p on p.seq = l.seq
              where p.username = 'dave' and l.kind = 2 order by l.seq desc limit 1`;
            expect(rows.length).toBe(1);
            const body = parseBody(new Uint8Array(rows[0].body));
            const { importMessageKey } = await import("@fastchat/lib/crypto");
            const aad = messageAad({
              kind: "group",
              from: rows[0].sender,
              to: "team",
              id: rows[0].id,
              sentAt: Number(rows[0].sent_at),
              kid: body.k,
            });
            for (const raw of carolKeys) {
              expect(() => openChatMessage(importMessageKey(raw), body.iv, body.c, aad)).toThrow();
            }
          } finally {
            await sql.end();
          }
        });
      });
    } finally {
      await db.close();
    }
  });

  Deno.test(`groups end to end (${kind}): refusals carry their codes`, async () => {
    const db = await openTestDb(kind);
    try {
      await withChatServer(db, {}, async (server) => {
        await withUsers(server.port, ["alice", "bob", "eve"], async (u) => {
          const code = (p: Promise<unknown>) => p.then(() => "ok", (e) => e.code as string);
          await u.alice.client.group("create", "team", ["bob"]);
          expect(await code(u.eve.client.send("#team", "let me in"))).toBe("NOT_GROUP_MEMBER");
          expect(await code(u.bob.client.group("add", "team", "eve"))).toBe("NOT_GROUP_ADMIN");
          expect(await code(u.eve.client.group("members", "team"))).toBe("NOT_GROUP_MEMBER");
          expect(await code(u.alice.client.group("create", "team", []))).toBe("GROUP_EXISTS");
          expect(await code(u.alice.client.group("create", "Bad!", []))).toBe(
            "INVALID_GROUP_NAME",
          );
          expect(await code(u.alice.client.group("add", "nope", "bob"))).toBe("UNKNOWN_GROUP");
          expect(await code(u.alice.client.group("add", "team", "zed"))).toBe("UNKNOWN_USER");
          await u.alice.client.group("members", "team");
          expect(await u.alice.log.waitFor((e) => e.event === "members")).toEqual({
            event: "members",
            group: "team",
            members: [{ user: "alice", admin: true }, { user: "bob", admin: false }],
          });
          await u.bob.client.group("list");
          expect(await u.bob.log.waitFor((e) => e.event === "groups")).toEqual({
            event: "groups",
            groups: [{ name: "team", admin: false, members: 2 }],
          });
        });
      });
    } finally {
      await db.close();
    }
  });

  Deno.test(`groups end to end (${kind}): a message then leave: the message goes out first`, async () => {
    const db = await openTestDb(kind);
    try {
      await withChatServer(db, {}, async (server) => {
        await withUsers(server.port, ["alice", "bob", "carol"], async (u) => {
          const { alice, bob } = u;
          await alice.client.group("create", "team", ["bob", "carol"]);
          await bob.log.waitFor((e) => e.event === "group" && e.change === "created");
          // Removing carol makes alice's key stale: her next message rotates
          // it first, and the leave right after must not overtake it.
          await alice.client.group("remove", "team", "carol");
          const id = await alice.client.send("#team", "last words");
          await alice.client.group("leave", "team");
          expect(
            await alice.log.waitFor((e) =>
              (e.event === "sent" || e.event === "error") &&
              "id" in e && e.id === id
            ),
          ).toEqual({ event: "sent", id, to: "#team" });
          await bob.log.waitFor((e) => e.event === "group" && e.change === "left");
          expect(texts(bob.log, "team")).toEqual(["alice: last words"]);
        });
      });
    } finally {
      await db.close();
    }
  });
}

for (const kind of DB_KINDS) {
  Deno.test(`groups end to end (${kind}): a key handover receipted in a later session is not shown as a delivery`, async () => {
    const db = await openTestDb(kind);
    try {
      await withChatServer(db, {}, async (server) => {
        await withUsers(server.port, ["alice", "carol"], async (u, reopen) => {
          const { alice, carol } = u;
          await carol.client.close(); // offline: what alice sends her is stored
          await alice.client.group("create", "crew", ["carol"]);
          // Posting hands alice's sender key to carol first, in a direct message of its own.
          const post = await alice.client.send("#crew", "hello crew");
          const dm = await alice.client.send("carol", "a direct one");
          for (const id of [post, dm]) {
            await alice.log.waitFor((e) => e.event === "sent" && "id" in e && e.id === id);
          }
          await alice.client.close(); // the receipts will be stored for her

          const carol2 = await reopen("carol");
          await carol2.log.waitFor((e) => e.event === "message" && e.text === "a direct one");
          expect(texts(carol2.log, "crew")).toEqual(["alice: hello crew"]);

          // A new process for alice: only the message she sent is shown delivered; the
          // handover's receipt (acknowledged by carol before the DM's) is not.
          const alice2 = await reopen("alice");
          await alice2.log.waitFor((e) => e.event === "delivered" && e.id === dm);
          const delivered = alice2.log.events.filter((e) => e.event === "delivered");
          expect(delivered).toEqual([{ event: "delivered", id: dm, to: "carol" }]);
        });
      });
    } finally {
      await db.close();
    }
  });
}
