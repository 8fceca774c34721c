import { expect } from "expect";
import { connectStore } from "@fastchat/db/connect";
import { DB_KINDS, openTestDb } from "@fastchat/testing";
import { loadLbKeys, publishLbKey } from "./lb_key_store.ts";
import { TicketSigner } from "./ticket_signer.ts";
import { TicketVerifier } from "@fastchat/lib/cluster/ticket_verifier";

for (const kind of DB_KINDS) {
  Deno.test({
    name: `lb keys (${kind}): published once, loaded into a verifier`,
    async fn() {
      const db = await openTestDb(kind);
      const sql = connectStore(db.url, { max: 1 });
      try {
        const a = await TicketSigner.generate();
        const b = await TicketSigner.generate();
        expect(await publishLbKey(sql, a)).toBe(true);
        expect(await publishLbKey(sql, a)).toBe(false); // restart: nothing new
        expect(await publishLbKey(sql, b)).toBe(true);
        const keys = await loadLbKeys(sql);
        expect([...keys.keys()].sort()).toEqual([a.keyId, b.keyId].sort());
        expect(keys.get(a.keyId)).toEqual(await a.publicKey());
        expect(keys.get(a.keyId)!.length).toBe(32);
        const verifier = new TicketVerifier(keys);
        const ticket = await b.issue({ serverId: "fc-1", host: "127.0.0.1", port: 7701 });
        expect((await verifier.verify(ticket, { serverId: "fc-1" })).keyId).toBe(b.keyId);
      } finally {
        await sql.end();
        await db.close();
      }
    },
  });
}

Deno.test({
  name: "lb keys: a different key under the same id is refused",
  async fn() {
    const db = await openTestDb(DB_KINDS[0]);
    const sql = connectStore(db.url, { max: 1 });
    try {
      const signer = await TicketSigner.generate();
      await sql`insert into lb_keys (key_id, public_key) values (${signer.keyId}, ${
        new Uint8Array(32).fill(7)
      })`;
      await expect(publishLbKey(sql, signer)).rejects.toMatchObject({ code: "INVALID_CONFIG" });
    } finally {
      await sql.end();
      await db.close();
    }
  },
});
