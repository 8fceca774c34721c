/** FileStore against PGlite and (when configured) real PostgreSQL. */
import { expect } from "expect";
import { codeOf } from "@fastchat/testing";
import type { Sql } from "postgres";
import { connectStore } from "@fastchat/db/connect";
import { FileStore } from "./file_store.ts";
import { DB_KINDS, openTestDb } from "@fastchat/testing";

async function withDb(kind: (typeof DB_KINDS)[number], fn: (sql: Sql) => Promise<void>) {
  const db = await openTestDb(kind);
  const sql = connectStore(db.url, { max: 3 });
  try {
    await fn(sql);
  } finally {
    await sql.end();
    await db.close();
  }
}

const ID = "AbCdEfGhIjKlMnOpQrStUv";
const chunk = (n: number, size = 1000) => new Uint8Array(size).fill(n);

for (const kind of DB_KINDS) {
  Deno.test(`files (${kind}): chunks in order, resumable, granted, released`, async () => {
    await withDb(kind, async (sql) => {
      const files = new FileStore(sql, { maxFileBytes: 10_000 });
      expect(await files.open("alice", ID, 3000, 3)).toBe(0);
      expect(await files.putChunk("alice", ID, 0, chunk(0))).toBe(1);
      expect(await files.putChunk("alice", ID, 0, chunk(0))).toBe(1); // resend after a lost reply
      expect(await codeOf(files.putChunk("alice", ID, 2, chunk(2)))).toBe("BAD_REQUEST"); // a gap
      expect(await codeOf(files.putChunk("bob", ID, 1, chunk(1)))).toBe("FILE_NOT_FOUND");
      // A cut upload resumes where it stopped.
      expect(await files.open("alice", ID, 3000, 3)).toBe(1);
      expect(await codeOf(files.attach(ID, "alice", "m-file-001", ["bob"]))).toBe(
        "TRANSFER_FAILED",
      );
      expect(await files.putChunk("alice", ID, 1, chunk(1))).toBe(2);
      expect(await files.putChunk("alice", ID, 2, chunk(2))).toBe(3);
      expect(await codeOf(files.putChunk("alice", ID, 3, chunk(3)))).toBe("BAD_REQUEST");
      // Nobody can read before the file is attached to a message for them.
      expect(await codeOf(files.chunks("bob", ID, 0, 8))).toBe("FILE_NOT_FOUND");
      await files.attach(ID, "alice", "m-file-001", ["bob", "carol"]);
      await files.attach(ID, "alice", "m-file-001", ["bob", "carol"]); // a resend
      expect(await codeOf(files.chunks("dave", ID, 0, 8))).toBe("FILE_NOT_FOUND");
      expect(await codeOf(files.chunks("alice", ID, 0, 8))).toBe("FILE_NOT_FOUND");
      const got = await files.chunks("bob", ID, 1, 8);
      expect(got.map((c) => [c.idx, c.data[0], c.data.length])).toEqual([[1, 1, 1000], [
        2,
        2,
        1000,
      ]]);
      expect(await files.chunks("bob", ID, 3, 8)).toEqual([]);
      // A sent file cannot be reopened or extended.
      expect(await codeOf(files.open("alice", ID, 3000, 3))).toBe("BAD_REQUEST");
      // Acks end grants; the last one deletes the file and its chunks.
      expect(await files.release([{ user: "bob", sender: "alice", id: "m-file-001" }])).toEqual([]);
      expect(await codeOf(files.chunks("bob", ID, 0, 8))).toBe("FILE_NOT_FOUND");
      expect((await files.chunks("carol", ID, 0, 1)).length).toBe(1);
      expect(await files.release([{ user: "carol", sender: "alice", id: "m-file-001" }])).toEqual([
        ID,
      ]);
      expect((await sql`select count(*)::int as n from file_chunks`)[0].n).toBe(0);
    });
  });

  Deno.test(`files (${kind}): limits, foreign ids and expiry`, async () => {
    await withDb(kind, async (sql) => {
      const files = new FileStore(sql, { maxFileBytes: 10_000 });
      expect(await codeOf(files.open("alice", ID, 20_000, 1))).toBe("FILE_TOO_LARGE");
      expect(await codeOf(files.open("alice", ID, 100, 10))).toBe("BAD_REQUEST");
      expect(await codeOf(files.open("alice", ID, 1e9, 1))).toBe("BAD_REQUEST");
      expect(await files.open("alice", ID, 10_028, 1)).toBe(0); // exactly the limit
      expect(await codeOf(files.open("bob", ID, 10_028, 1))).toBe("BAD_REQUEST");
      expect(await codeOf(files.open("alice", ID, 10_000, 1))).toBe("BAD_REQUEST");
      expect(await codeOf(files.putChunk("alice", ID, 0, new Uint8Array(10)))).toBe("BAD_REQUEST");
      expect(await files.progress("alice", ID)).toEqual({
        bytes: 10_028,
        chunks: 1,
        stored: 0,
        sent: false,
      });
      expect(await files.expire()).toBe(0);
      expect(await files.expire(new Date(Date.now() + 25 * 3600_000))).toBe(1);
      expect(await files.progress("alice", ID)).toBeUndefined();
    });
  });
}
