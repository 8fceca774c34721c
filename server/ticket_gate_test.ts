/**
 * Servers admit clients with LB-signed tickets: valid ones are accepted;
 * forged, expired, replayed and other-server tickets are refused with their
 * codes; `--require-ticket` refuses ticketless logins but not resumes.
 */
import { expect } from "expect";
import postgres from "postgres";
import { TicketSigner } from "@fastchat/lb/ticket_signer";
import { exportPublicKeys, generateIdentity } from "@fastchat/lib/crypto";
import { DB_KINDS, openTestDb, RawPeer, startServerProcess } from "@fastchat/testing";

for (const kind of DB_KINDS) {
  Deno.test({
    name: `tickets (${kind}): servers verify LB tickets and refuse bad ones with their codes`,
    async fn(t) {
      const db = await openTestDb(kind);
      const sql = postgres(db.url, { max: 1, onnotice: () => {} });
      const lb = await TicketSigner.generate();
      const rogue = await TicketSigner.generate(); // never published
      await sql`insert into lb_keys (key_id, public_key) values (${lb.keyId}, ${await lb
        .publicKey()})`;
      const server = await startServerProcess(db.url, { args: ["--require-ticket"] });
      const { host, port, id } = server;
      const keys = await exportPublicKeys(await generateIdentity());
      const auth = crypto.getRandomValues(new Uint8Array(32));
      let rid = 1;
      const register = async (user: string, ticket?: string) => {
        const p = await RawPeer.connect(host, port);
        await p.send({ t: "hello", v: 1 });
        const r = rid++;
        await p.send({
          t: "register",
          rid: r,
          user,
          auth,
          keys,
          backup: new Uint8Array(64),
          kdf: { salt: new Uint8Array(16), iter: 100_000 },
          ...(ticket ? { ticket } : {}),
        });
        const reply = await p.waitFrame((f) => (f.t === "ok" || f.t === "error") && f.rid === r);
        p.close();
        return reply;
      };
      try {
        await t.step("no ticket: TICKET_REQUIRED", async () => {
          expect(await register("nobody1")).toMatchObject({ t: "error", code: "TICKET_REQUIRED" });
        });
        await t.step("a valid ticket is accepted, once", async () => {
          const ticket = await lb.issue({ serverId: id, host, port });
          expect(await register("alice", ticket)).toMatchObject({ t: "ok", user: "alice" });
          expect(await register("alice2", ticket)).toMatchObject({
            t: "error",
            code: "TICKET_REPLAYED",
          });
        });
        await t.step("forged: signed by an unpublished key, or altered", async () => {
          const forged = await rogue.issue({ serverId: id, host, port });
          expect(await register("nobody2", forged)).toMatchObject({ code: "TICKET_FORGED" });
          const good = await lb.issue({ serverId: id, host, port });
          const i = good.length - 5; // inside the signature
          const altered = good.slice(0, i) + (good[i] === "A" ? "B" : "A") + good.slice(i + 1);
          expect(await register("nobody3", altered)).toMatchObject({ code: "TICKET_FORGED" });
        });
        await t.step("expired", async () => {
          const old = await lb.issue({
            serverId: id,
            host,
            port,
            ttlMs: 1000,
            now: Date.now() - 60_000,
          });
          expect(await register("nobody4", old)).toMatchObject({ code: "TICKET_EXPIRED" });
        });
        await t.step("issued for another server", async () => {
          const other = await lb.issue({ serverId: "some-other-server", host, port });
          expect(await register("nobody5", other)).toMatchObject({ code: "TICKET_WRONG_SERVER" });
        });
        await t.step("malformed", async () => {
          expect(await register("nobody6", "A".repeat(40))).toMatchObject({
            code: "TICKET_MALFORMED",
          });
        });
        await t.step(
          "an LB that starts later is picked up without restarting the server",
          async () => {
            const late = await TicketSigner.generate();
            await sql`insert into lb_keys (key_id, public_key) values (${late.keyId}, ${await late
              .publicKey()})`;
            const ticket = await late.issue({ serverId: id, host, port });
            expect(await register("bob", ticket)).toMatchObject({ t: "ok", user: "bob" });
          },
        );
        await t.step("nothing was created by a refused request", async () => {
          const users = await sql`select username from users order by username`;
          expect(users.map((u) => u.username)).toEqual(["alice", "bob"]);
        });
      } finally {
        await server.proc.stop();
        await sql.end();
        await db.close();
      }
    },
  });
}
