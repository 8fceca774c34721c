import { expect } from "expect";
import { connectStore } from "@fastchat/db/connect";
import { insertServer } from "./fake_registry.ts";
import { openTestDb } from "./test_db.ts";

Deno.test("insertServer writes a row aged by the database clock, and replaces it", async () => {
  const db = await openTestDb("pglite");
  const sql = connectStore(db.url, { max: 1 });
  try {
    await insertServer(sql, { id: "fc-1", port: 7701 });
    await insertServer(sql, { id: "fc-2", port: 7702, clients: 3, draining: true, ageMs: 60_000 });
    const rows = async () =>
      await sql`select id, host, port, peer_port, clients, draining,
          extract(epoch from now() - heartbeat_at) * 1000 as age_ms
        from servers order by id`;
    const [a, b] = await rows();
    expect(a).toMatchObject({ id: "fc-1", host: "127.0.0.1", port: 7701, peer_port: 8701 });
    expect(a).toMatchObject({ clients: 0, draining: false });
    expect(Number(a.age_ms)).toBeLessThan(1_000);
    expect(b).toMatchObject({ id: "fc-2", clients: 3, draining: true });
    expect(Number(b.age_ms)).toBeGreaterThanOrEqual(60_000);
    await insertServer(sql, { id: "fc-2", port: 7703 }); // a heartbeat again: live
    const [, again] = await rows();
    expect(again).toMatchObject({ port: 7703, clients: 0, draining: false });
    expect(Number(again.age_ms)).toBeLessThan(1_000);
  } finally {
    await sql.end();
    await db.close();
  }
});
