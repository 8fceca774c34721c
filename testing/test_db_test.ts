import { expect } from "expect";
import postgres from "postgres";
import { connectStore } from "@fastchat/db/connect";
import { DB_KINDS, openTestDb, TEST_PG_URL, withFreshPostgres } from "./test_db.ts";

const hasServersTable = async (url: string): Promise<boolean> => {
  const sql = connectStore(url, { max: 1 });
  try {
    const [r] = await sql`select to_regclass('servers') is not null as present`;
    return r.present as boolean;
  } finally {
    await sql.end();
  }
};

const databaseExists = async (url: string): Promise<boolean> => {
  const name = new URL(url).pathname.slice(1);
  const admin = postgres(TEST_PG_URL!, { max: 1, onnotice: () => {} });
  try {
    return (await admin`select 1 from pg_database where datname = ${name}`).length === 1;
  } finally {
    await admin.end();
  }
};

Deno.test("DB_KINDS is PGlite, plus PostgreSQL exactly when its URL is set", () => {
  expect(DB_KINDS).toEqual(TEST_PG_URL ? ["pglite", "postgres"] : ["pglite"]);
});

for (const kind of DB_KINDS) {
  Deno.test(`openTestDb(${kind}) gives a migrated database`, async () => {
    const db = await openTestDb(kind);
    try {
      expect(db.kind).toBe(kind);
      expect(await hasServersTable(db.url)).toBe(true);
    } finally {
      await db.close();
    }
    if (kind === "postgres") expect(await databaseExists(db.url)).toBe(false);
  });
}

Deno.test({
  name: "withFreshPostgres: an empty database, dropped afterwards, even when fn throws",
  ignore: !TEST_PG_URL,
  fn: async () => {
    let seen = "";
    await withFreshPostgres(async (url) => {
      seen = url;
      expect(await databaseExists(url)).toBe(true);
      expect(await hasServersTable(url)).toBe(false);
    });
    expect(await databaseExists(seen)).toBe(false);
    await expect(withFreshPostgres(async (url) => {
      seen = url;
      await Promise.reject(new Error("inside"));
    })).rejects.toThrow("inside");
    expect(await databaseExists(seen)).toBe(false);
  },
});

Deno.test({
  name: "withFreshPostgres does nothing without FASTCHAT_TEST_DATABASE_URL",
  ignore: !!TEST_PG_URL,
  fn: async () => {
    let called = false;
    await withFreshPostgres(() => {
      called = true;
      return Promise.resolve();
    });
    expect(called).toBe(false);
  },
});
