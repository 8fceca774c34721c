import { expect } from "expect";
import { FastChatError } from "@fastchat/lib/errors";
import {
  connectStore,
  DEFAULT_EMBEDDED_URL,
  redactDatabaseUrl,
  resolveDatabaseUrl,
  type Store,
  waitForDatabase,
} from "./connect.ts";
import { loadOrCreatePassword, withPassword } from "./credentials.ts";
import { EmbeddedDatabase } from "./embedded_server.ts";
import { migrate } from "./migrate.ts";
import { freePorts, TEST_PG_URL, withFreshPostgresSql } from "@fastchat/testing";

Deno.test("resolveDatabaseUrl: flag, then DATABASE_URL, then the embedded default", async () => {
  const none = () => undefined;
  const env = (name: string) => name === "DATABASE_URL" ? "postgres://env@h/db" : undefined;
  const empty = await Deno.makeTempDir({ prefix: "fc_nopw_" });
  try {
    expect(DEFAULT_EMBEDDED_URL).toBe("postgres://postgres@127.0.0.1:7432/postgres");
    expect(resolveDatabaseUrl(undefined, none, empty)).toBe(DEFAULT_EMBEDDED_URL);
    expect(resolveDatabaseUrl(undefined, env, empty)).toBe("postgres://env@h/db");
    expect(resolveDatabaseUrl("postgres://flag@h/db", env)).toBe("postgres://flag@h/db");
    expect(resolveDatabaseUrl("", env)).toBe("postgres://env@h/db");
    // the real environment is read by default
    if (Deno.env.get("DATABASE_URL")) {
      expect(resolveDatabaseUrl()).toBe(Deno.env.get("DATABASE_URL"));
    }
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("resolveDatabaseUrl: the embedded default gets PGPASSWORD or the data dir's password", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fc_pw_" });
  try {
    const password = await loadOrCreatePassword(dataDir);
    const none = () => undefined;
    expect(resolveDatabaseUrl(undefined, none, dataDir)).toBe(
      `postgres://postgres:${password}@127.0.0.1:7432/postgres`,
    );
    const pg = (name: string) => name === "PGPASSWORD" ? "from-env" : undefined;
    expect(resolveDatabaseUrl(undefined, pg, dataDir)).toBe(
      "postgres://postgres:from-env@127.0.0.1:7432/postgres",
    );
    // an explicit URL is left alone (postgres.js applies PGPASSWORD itself when it has none)
    expect(resolveDatabaseUrl("postgres://u@h/db", pg, dataDir)).toBe("postgres://u@h/db");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("redactDatabaseUrl hides only the password", () => {
  expect(redactDatabaseUrl("postgres://u:s3cret@h:5432/db")).toBe("postgres://u:***@h:5432/db");
  expect(redactDatabaseUrl("postgres://u@h/db")).toBe("postgres://u@h/db");
  expect(redactDatabaseUrl("not a url :x")).toBe("not a url :x");
});

async function checkTypes(sql: Store): Promise<void> {
  const [row] = await sql`
    insert into messages (id, sender, recipient, kind, body, sent_at)
    values (${"m1"}, ${"alice"}, ${"bob"}, ${1}, ${new Uint8Array([
    1,
    2,
    255,
  ])}, ${1_700_000_000_123})
    returning seq, sent_at, body, kind, stored_at`;
  expect(row.seq).toBe(1);
  expect(row.sent_at).toBe(1_700_000_000_123);
  expect(row.kind).toBe(1);
  expect(row.body).toBeInstanceOf(Uint8Array);
  expect([...row.body]).toEqual([1, 2, 255]);
  expect(row.stored_at).toBeInstanceOf(Date);
  const [big] = await sql`select ${2n ** 62n}::bigint as huge, count(*) as n from messages`;
  expect(big.huge).toBe(2n ** 62n);
  expect(big.n).toBe(1);
}

Deno.test("connectStore: bigint as number when exact, bytea as Uint8Array (embedded)", async () => {
  const db = await EmbeddedDatabase.start({ port: 0 });
  const sql = connectStore(db.url);
  try {
    await checkTypes(sql);
  } finally {
    await sql.end();
    await db.close();
  }
});

Deno.test({
  name: "connectStore: same types on PostgreSQL",
  ignore: !TEST_PG_URL,
  fn: () =>
    withFreshPostgresSql(async (sql) => {
      await migrate(sql);
      await checkTypes(sql);
    }),
});

Deno.test("waitForDatabase times out with STORE_UNAVAILABLE and a redacted URL", async () => {
  const url = `postgres://postgres:hunter2@127.0.0.1:${freePorts()}/postgres`;
  const started = Date.now();
  const err = await waitForDatabase(url, 300).catch((e) => e);
  expect(err).toBeInstanceOf(FastChatError);
  expect(err.code).toBe("STORE_UNAVAILABLE");
  expect(err.message).toContain("postgres://postgres:***@127.0.0.1");
  expect(err.message).not.toContain("hunter2");
  expect(Date.now() - started).toBeLessThan(5000);
});

Deno.test("waitForDatabase waits until a server comes up", async () => {
  const port = freePorts();
  const waiting = waitForDatabase(`postgres://postgres:pw@127.0.0.1:${port}/postgres`, 30_000);
  const db = await EmbeddedDatabase.start({ port, password: "pw" });
  try {
    await waiting;
  } finally {
    await db.close();
  }
});

Deno.test("waitForDatabase fails at once when the password is refused", async () => {
  const db = await EmbeddedDatabase.start({ port: 0, password: "right" });
  try {
    const err = await waitForDatabase(withPassword(db.publicUrl, "wrong"), 60_000).catch((e) => e);
    expect(err).toBeInstanceOf(FastChatError);
    expect(err.code).toBe("STORE_UNAVAILABLE");
    expect(err.message).toContain("28P01");
    expect(err.message).not.toContain("wrong@");
  } finally {
    await db.close();
  }
});
