import { expect } from "expect";
import postgres from "postgres";
import { FastChatError } from "@fastchat/lib/errors";
import { connectStore, type Store } from "./connect.ts";
import { EmbeddedDatabase } from "./embedded_server.ts";
import { listMigrations, migrate, type Migration } from "./migrate.ts";
import { MIGRATION_FILES } from "./migrations.ts";
import { TEST_PG_URL, withFreshPostgres, withFreshPostgresSql } from "@fastchat/testing";

const VERSIONS = MIGRATION_FILES.map((_, i) => i + 1);

const TABLES = [
  "cluster_identity",
  "file_chunks",
  "file_grants",
  "files",
  "group_log",
  "group_members",
  "group_pending",
  "groups",
  "key_envelopes",
  "lb_keys",
  "login_failures",
  "messages",
  "presence",
  "receipts",
  "schema_migrations",
  "server_secrets",
  "servers",
  "sessions",
  "users",
];

async function tables(sql: Store): Promise<string[]> {
  const rows = await sql`
    select table_name from information_schema.tables
    where table_schema = current_schema() order by table_name`;
  return rows.map((r) => r.table_name as string);
}

async function extraMigration(version: number, body: string): Promise<Migration[]> {
  const file = `${version}_extra.sql`;
  return [...await listMigrations(), { version, name: "extra", file, sql: body, checksum: "c" }];
}

async function withEmbedded(fn: (db: EmbeddedDatabase) => Promise<void>): Promise<void> {
  const db = await EmbeddedDatabase.start({ port: 0 });
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

Deno.test("listMigrations loads every listed file in order with checksums", async () => {
  const list = await listMigrations();
  expect(list.map((m) => m.file)).toEqual([...MIGRATION_FILES]);
  expect(list[0].version).toBe(1);
  expect(list[0].name).toBe("init");
  expect(list[0].sql).toContain("CREATE TABLE users");
  expect(list[0].checksum).toMatch(/^[0-9a-f]{64}$/);
  expect((await listMigrations())[0].checksum).toBe(list[0].checksum);
});

Deno.test("PGlite: start applies migrations once; migrate over the wire is idempotent", async () => {
  await withEmbedded(async (db) => {
    const sql = connectStore(db.url);
    try {
      expect(await tables(sql)).toEqual(TABLES);
      expect(await migrate(sql)).toEqual({ applied: [] });
      expect(await migrate(sql)).toEqual({ applied: [] });
      const rows = await sql`select version, name from schema_migrations order by version`;
      expect(rows.map((r) => [r.version, r.name])).toEqual(
        MIGRATION_FILES.map((f, i) => [i + 1, f]),
      );

      const extra = await extraMigration(
        9001,
        "CREATE TABLE extra_t (x int); INSERT INTO extra_t VALUES (1);",
      );
      expect(await migrate(sql, extra)).toEqual({ applied: [9001] });
      expect(await migrate(sql, extra)).toEqual({ applied: [] });
      expect(await sql`select count(*) as n from extra_t`).toEqual([{ n: 1 }]);
    } finally {
      await sql.end();
    }
  });
});

Deno.test("PGlite: 4 concurrent migrate() calls on separate connections apply once", async () => {
  await withEmbedded(async (db) => {
    const clients = Array.from({ length: 4 }, () => connectStore(db.url, { max: 1 }));
    try {
      const extra = await extraMigration(
        9002,
        "CREATE TABLE extra_c (x int); INSERT INTO extra_c VALUES (1);",
      );
      const results = await Promise.all(clients.map((sql) => migrate(sql, extra)));
      expect(results.map((r) => r.applied).flat()).toEqual([9002]);
      expect(await clients[0]`select count(*) as n from extra_c`).toEqual([{ n: 1 }]);
    } finally {
      await Promise.all(clients.map((sql) => sql.end()));
    }
  });
});

Deno.test("PGlite: checksum mismatch names the file", async () => {
  await withEmbedded(async (db) => {
    const sql = connectStore(db.url);
    try {
      await sql`update schema_migrations set checksum = 'tampered' where version = 1`;
      const err = await migrate(sql).catch((e) => e);
      expect(err).toBeInstanceOf(FastChatError);
      expect(err.code).toBe("INVALID_CONFIG");
      expect(err.message).toContain("0001_init.sql");
      // the failed migration left no transaction open: the connection still works
      expect(await sql`select 1 as one`).toEqual([{ one: 1 }]);
    } finally {
      await sql.end();
    }
  });
});

Deno.test({
  name: "PostgreSQL: migrate applies once and is idempotent",
  ignore: !TEST_PG_URL,
  fn: () =>
    withFreshPostgresSql(async (sql) => {
      expect(await migrate(sql)).toEqual({ applied: VERSIONS });
      expect(await migrate(sql)).toEqual({ applied: [] });
      expect(await tables(sql)).toEqual(TABLES);
      expect(await sql`select count(*) as n from schema_migrations`).toEqual([{
        n: VERSIONS.length,
      }]);
    }),
});

Deno.test({
  name: "PostgreSQL: 4 concurrent migrate() calls on a fresh database apply each migration once",
  ignore: !TEST_PG_URL,
  fn: () =>
    withFreshPostgres(async (url) => {
      const clients = Array.from({ length: 4 }, () =>
        postgres(url, { max: 1, onnotice: () => {} }) as unknown as Store);
      try {
        // connect all first so the four migrations really race
        await Promise.all(clients.map((sql) =>
          sql`select 1`
        ));
        const results = await Promise.all(clients.map((sql) => migrate(sql)));
        const applied = results.map((r) => r.applied);
        expect(applied.flat()).toEqual(VERSIONS);
        expect(applied.filter((a) => a.length === 0).length).toBe(3);
        const rows = await clients[0]`select version from schema_migrations`;
        expect(rows.map((r) => r.version)).toEqual(VERSIONS);
      } finally {
        await Promise.all(clients.map((sql) => sql.end()));
      }
    }),
});

Deno.test({
  name: "PostgreSQL: checksum mismatch is INVALID_CONFIG naming the file",
  ignore: !TEST_PG_URL,
  fn: () =>
    withFreshPostgresSql(async (sql) => {
      await migrate(sql);
      await sql`update schema_migrations set checksum = 'tampered' where version = 1`;
      const err = await migrate(sql).catch((e) => e);
      expect(err).toBeInstanceOf(FastChatError);
      expect(err.code).toBe("INVALID_CONFIG");
      expect(err.message).toContain("0001_init.sql");
      expect(err.details.file).toBe("0001_init.sql");
    }),
});

Deno.test("listMigrations works when the package is loaded over http (as from JSR)", async () => {
  const root = new URL("../", import.meta.url);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (!/^\/(db|lib)\/[\w/.-]+$/.test(path) || path.includes("..")) {
      return new Response("not found", { status: 404 });
    }
    try {
      const body = await Deno.readFile(new URL(`.${path}`, root));
      const type = path.endsWith(".ts") ? "application/typescript" : "text/plain";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  try {
    const remote = `http://127.0.0.1:${server.addr.port}/db/migrate.ts`;
    // In a child without the lock file: an import from an ephemeral port
    // would otherwise add an entry to deno.lock on every run.
    const script = `const m = await import(${JSON.stringify(remote)});
      console.log(JSON.stringify(await m.listMigrations()));`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--quiet", "--no-lock", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    expect({ code: out.code, stderr }).toEqual({ code: 0, stderr: "" });
    const overHttp = JSON.parse(new TextDecoder().decode(out.stdout));
    expect(overHttp).toEqual(JSON.parse(JSON.stringify(await listMigrations())));
  } finally {
    await server.shutdown();
  }
});
