/**
 * End-to-end: real server processes on ephemeral ports, real clients (the
 * client library doing the real encryption), real PGlite and PostgreSQL.
 */
import { expect } from "expect";
import postgres from "postgres";
import { ChatClient, type ClientEvent } from "@fastchat/client";
import {
  DB_KINDS,
  EventLog,
  openTestDb,
  type ServerProcess,
  startServerProcess,
} from "@fastchat/testing";

const KDF = 100_000;

function client(server: { host: string; port: number }, home: string, log: EventLog<ClientEvent>) {
  return new ChatClient({ server, homeRoot: home, kdfIterations: KDF, onEvent: log.push });
}

const isMsg = (text: string) => (e: ClientEvent) => e.event === "message" && e.text === text;

for (const kind of DB_KINDS) {
  Deno.test({
    name: `e2e (${kind}): direct messages, offline delivery, receipts, restore, crash safety`,
    async fn(t) {
      const db = await openTestDb(kind);
      let server: ServerProcess = await startServerProcess(db.url);
      const target = () => ({ host: server.host, port: server.port });
      const homeA = await Deno.makeTempDir();
      const homeB = await Deno.makeTempDir();
      const logA = new EventLog<ClientEvent>();
      const logB = new EventLog<ClientEvent>();
      const alice = client(target(), homeA, logA);
      let bob = client(target(), homeB, logB);
      const CANARY = `canary-${crypto.randomUUID()}`;
      try {
        await t.step(
          "register and exchange messages live with sent and delivered receipts",
          async () => {
            await alice.register("alice", "alice-password-1");
            await bob.register("bob", "bob-password-1");
            expect(logA.events[0]).toMatchObject({
              event: "ready",
              user: "alice",
              server: server.id,
            });
            const id1 = await alice.send("bob", `hello bob ${CANARY}`);
            const id2 = await bob.send("alice", "hello alice");
            const m = await logB.waitFor(isMsg(`hello bob ${CANARY}`));
            expect(m).toMatchObject({ event: "message", id: id1, from: "alice", to: "bob" });
            await logA.waitFor(isMsg("hello alice"));
            await logA.waitFor((e) => e.event === "sent" && e.id === id1);
            await logA.waitFor((e) => e.event === "delivered" && e.id === id1 && e.to === "bob");
            await logB.waitFor((e) => e.event === "delivered" && e.id === id2 && e.to === "alice");
          },
        );

        await t.step("per-conversation order is preserved", async () => {
          const texts = Array.from({ length: 200 }, (_, i) => `order ${i}`);
          for (const x of texts) await alice.send("bob", x);
          const got = await logB.waitForCount(
            (e) => e.event === "message" && e.text.startsWith("order "),
            200,
          );
          expect(got.map((e) => (e as { text: string }).text)).toEqual(texts);
        });

        await t.step("offline recipient gets messages at next login, in order", async () => {
          await bob.close();
          const ids: string[] = [];
          for (let i = 0; i < 5; i++) ids.push(await alice.send("bob", `offline ${i}`));
          await alice.idle(); // all acknowledged: durably stored
          bob = client(target(), homeB, logB);
          await bob.login("bob", "bob-password-1");
          const got = await logB.waitForCount(
            (e) => e.event === "message" && e.text.startsWith("offline "),
            5,
          );
          expect(got.map((e) => (e as { id: string }).id)).toEqual(ids);
          for (const id of ids) await logA.waitFor((e) => e.event === "delivered" && e.id === id);
        });

        await t.step("login from a fresh home restores keys and reads new messages", async () => {
          const freshHome = await Deno.makeTempDir();
          const log2 = new EventLog<ClientEvent>();
          const bob2 = client(target(), freshHome, log2);
          await bob2.login("bob", "bob-password-1");
          // Both sessions of bob receive the next message.
          await alice.send("bob", "to both sessions");
          await log2.waitFor(isMsg("to both sessions"));
          await logB.waitFor(isMsg("to both sessions"));
          // The restored keys are the same: safety numbers agree across homes and sides.
          expect(await bob2.verify("alice")).toBe(await alice.verify("bob"));
          const st = await Deno.stat(`${freshHome}/bob/identity.sealed`);
          expect(st.mode! & 0o777).toBe(0o600);
          await bob2.close();
        });

        await t.step("wrong password and unknown user are rejected alike", async () => {
          const c = client(target(), await Deno.makeTempDir(), new EventLog());
          await expect(c.login("bob", "not-the-password")).rejects.toMatchObject({
            code: "INVALID_CREDENTIALS",
          });
          await expect(c.login("nobody", "whatever-password")).rejects.toMatchObject({
            code: "INVALID_CREDENTIALS",
          });
          await expect(c.register("alice", "another-password")).rejects.toMatchObject({
            code: "USER_EXISTS",
          });
          await expect(c.register("Bad Name", "x-password")).rejects.toMatchObject({
            code: "INVALID_USERNAME",
          });
          await c.close();
        });

        await t.step("kill -9 loses no acknowledged message", async () => {
          await bob.close();
          const ids: string[] = [];
          for (let i = 0; i < 300; i++) ids.push(await alice.send("bob", `crash ${i}`));
          await alice.idle();
          server.proc.kill("SIGKILL");
          await server.proc.exited;
          server = await startServerProcess(db.url, { port: server.port });
          // alice reconnects and resumes by herself.
          await logA.waitFor((e) => e.event === "reconnected");
          bob = client(target(), homeB, logB);
          await bob.login("bob", "bob-password-1");
          const got = await logB.waitForCount(
            (e) => e.event === "message" && e.text.startsWith("crash "),
            300,
          );
          expect(got.map((e) => (e as { id: string }).id)).toEqual(ids);
          // And the resumed session works both ways.
          await alice.send("bob", "after restart");
          await logB.waitFor(isMsg("after restart"));
        });

        await t.step("no plaintext in the database or the server's logs", async () => {
          const sql = postgres(db.url, { max: 1, onnotice: () => {} });
          const tables = ["users", "sessions", "messages", "key_envelopes", "receipts"];
          for (const table of tables) {
            const rows = await sql.unsafe(`select t::text as row from ${table} t`);
            for (const r of rows) {
              expect(r.row).not.toContain(CANARY);
              // bytea is rendered as hex: check the hex of the canary too.
              const hex = [...new TextEncoder().encode(CANARY)].map((b) =>
                b.toString(16).padStart(2, "0")
              ).join("");
              expect(r.row).not.toContain(hex);
            }
          }
          await sql.end();
          const logs = [...server.proc.stdout, ...server.proc.stderr].join("\n");
          expect(logs).not.toContain(CANARY);
          expect(logs).not.toContain("hello bob");
        });
      } finally {
        await alice.close().catch(() => {});
        await bob.close().catch(() => {});
        await server.proc.stop();
        await db.close();
      }
    },
  });
}
