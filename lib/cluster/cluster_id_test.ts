/**
 * The cluster id: made once per database by its migrations (PGlite and,
 * with `FASTCHAT_TEST_DATABASE_URL`, PostgreSQL), kept by later migrations,
 * different for every database, and a clear error where it is missing.
 */
import { expect } from "expect";
import { migrate } from "@fastchat/db";
import { assertCode, DB_KINDS, withTestSql } from "@fastchat/testing";
import { CLUSTER_ID, readClusterId } from "./cluster_id.ts";

for (const kind of DB_KINDS) {
  Deno.test(`cluster id (${kind}): one random id per database, kept by migrations`, async () => {
    const first = await withTestSql(kind, async (sql) => {
      const id = await readClusterId(sql);
      expect(id).toMatch(CLUSTER_ID);
      await migrate(sql); // again: nothing to do, the id stays
      expect(await readClusterId(sql)).toBe(id);
      // One row only: a second id cannot be added.
      await expect(sql`insert into cluster_identity (id) values (${"0".repeat(32)})`)
        .rejects.toThrow();
      return id;
    });
    const second = await withTestSql(kind, (sql) => readClusterId(sql));
    expect(second).not.toBe(first);
  });

  Deno.test(`cluster id (${kind}): a database without one is INVALID_CONFIG`, async () => {
    await withTestSql(kind, async (sql) => {
      await sql`drop table cluster_identity`;
      const err = await assertCode(readClusterId(sql), "INVALID_CONFIG");
      expect(err.message).toContain("cluster id");
    });
  });
}
