import { expect } from "expect";
import postgres from "postgres";
import { PGlite } from "@electric-sql/pglite";
import { connectStore, type Store } from "./connect.ts";
import { EmbeddedDatabase, IDLE_IN_TRANSACTION_TIMEOUT_MS } from "./embedded_server.ts";
import { MIGRATION_FILES } from "./migrations.ts";
import { bindExecute, errorCode, RawPgClient, types } from "./test_util.ts";
import { message, parseMessage, queryMessage, SSL_REQUEST_CODE, syncMessage } from "./wire.ts";

const FLUSH = message("H");

async function count(sql: Store, username: string): Promise<number> {
  const [{ n }] = await sql`select count(*) as n from receipts where username = ${username}`;
  return n as number;
}

Deno.test("embedded server: concurrency, isolation and cleanup", async (t) => {
  const db = await EmbeddedDatabase.start({ port: 0 });
  // a: prepared statements; b: unnamed statements (Parse/Describe/Flush, then
  // Bind/Execute/Sync), the pattern a per-message queue interleaves wrongly.
  const a = connectStore(db.url, { max: 4 });
  const b = postgres(db.url, { max: 4, prepare: false, onnotice: () => {} });
  const c = connectStore(db.url, { max: 2 });
  try {
    await t.step("200 concurrent parameterized selects each get their own parameter", async () => {
      const results = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
        // b's statement text varies, so running another connection's unnamed
        // statement would show up as a wrong k
        const [row] = i % 2
          ? await a`select ${i}::int as v, ${"a" + i}::text as s, ${i % 13}::int as k`
          : await b.unsafe(`select $1::text as s, $2::int as v, ${i % 13} as k`, ["b" + i, i]);
        return row.v === i && row.s === (i % 2 ? "a" : "b") + i && row.k === i % 13;
      }));
      expect(results.every(Boolean)).toBe(true);
    });

    await t.step("inserts, selects and transactions interleaved stay correct", async () => {
      const work: Promise<unknown>[] = [];
      for (let i = 0; i < 300; i++) {
        const sql = i % 3 === 0 ? a : b;
        work.push((async () => {
          const [row] = await sql`
            insert into receipts (username, peer, message_id)
            values (${"h" + (i % 10)}, ${"p" + i}, ${"m" + i}) returning peer, message_id`;
          expect([row.peer, row.message_id]).toEqual(["p" + i, "m" + i]);
          const [back] = await sql`select peer from receipts where message_id = ${"m" + i}`;
          expect(back.peer).toBe("p" + i);
        })());
      }
      for (let k = 0; k < 30; k++) {
        work.push((async () => {
          const user = "tx" + k;
          const outcome = await c.begin(async (tx) => {
            for (let j = 0; j < 3; j++) {
              await tx`insert into receipts (username, peer, message_id) values (${user}, ${"q"}, ${
                "t" + j
              })`;
            }
            const [{ n }] = await tx`select count(*) as n from receipts where username = ${user}`;
            expect(n).toBe(3);
            if (k % 5 === 1) throw new Error("abort on purpose");
            if (k % 5 === 2) await tx`select 1/0`;
            return "committed";
          }).catch((e: Error) => e.message);
          return [k, outcome];
        })());
      }
      await Promise.all(work);
      for (let k = 0; k < 30; k++) {
        expect(await count(a, "tx" + k)).toBe(k % 5 === 1 || k % 5 === 2 ? 0 : 3);
      }
      const [{ n }] = await a`select count(*) as n from receipts where username like 'h%'`;
      expect(n).toBe(300);
    });

    await t.step("errors on one connection do not affect others", async () => {
      const failing = Array.from(
        { length: 60 },
        (_, i) =>
          (i % 2 ? a`select ${i}::int / 0 as x` : a.unsafe("selec broken " + i)).then(
            () => "no error",
            (e) => e.code,
          ),
      );
      const fine = Array.from(
        { length: 200 },
        (_, i) => b`select ${i}::int as v`.then(([r]) => r.v),
      );
      const [errs, values] = await Promise.all([Promise.all(failing), Promise.all(fine)]);
      expect(errs.every((code, i) => code === (i % 2 ? "22012" : "42601"))).toBe(true);
      expect(values).toEqual(Array.from({ length: 200 }, (_, i) => i));
      expect(await a`select 7 as seven`).toEqual([{ seven: 7 }]);
    });

    await t.step("extended batches are atomic units (no portal interleaving)", async () => {
      const x = await RawPgClient.connect(db.port, db.password);
      const y = await RawPgClient.connect(db.port, db.password);
      // x sends half a batch, y a whole one, then x the rest.
      x.send(parseMessage("", "select 'from x'"), message("B", "", "", new Uint8Array(6)));
      y.send(parseMessage("", "select 'from y'"), ...bindExecute(), syncMessage());
      const fromY = await y.readUntil("Z");
      x.send(message("E", "", new Uint8Array(4)), syncMessage());
      const fromX = await x.readUntil("Z");
      const text = (msgs: { type: string; body: Uint8Array }[]) =>
        new TextDecoder().decode(msgs.find((m) => m.type === "D")!.body.subarray(6));
      expect(text(fromY)).toBe("from y");
      expect(text(fromX)).toBe("from x");
      x.close();
      y.close();
    });

    await t.step(
      "named statements are private to their connection and closed with it",
      async () => {
        const x = await RawPgClient.connect(db.port, db.password);
        const y = await RawPgClient.connect(db.port, db.password);
        x.send(parseMessage("s1", "select 'x1'"), syncMessage());
        y.send(parseMessage("s1", "select 'y1'"), syncMessage());
        expect(types(await x.readUntil("Z"))).toBe("1Z");
        expect(types(await y.readUntil("Z"))).toBe("1Z");
        const run = async (c: RawPgClient) => {
          c.send(...bindExecute("s1"), syncMessage());
          const msgs = await c.readUntil("Z");
          return new TextDecoder().decode(msgs.find((m) => m.type === "D")!.body.subarray(6));
        };
        expect([await run(x), await run(y)]).toEqual(["x1", "y1"]);
        x.send(message("C", "Ss1"), syncMessage()); // closing x's s1 leaves y's alone
        expect(types(await x.readUntil("Z"))).toBe("3Z");
        expect(await run(y)).toBe("y1");
        x.send(...bindExecute("s1"), syncMessage());
        expect(errorCode((await x.readUntil("Z"))[0].body)).toBe("26000");
        // Terminate: the server schedules the cleanup before it closes the
        // socket, so a query sent after EOF runs after the cleanup.
        for (const c of [x, y]) {
          c.send(message("X"));
          await c.closedByServer();
        }
        const [{ n }] =
          await a`select count(*) as n from pg_prepared_statements where name like '%.s1'`;
        expect(n).toBe(0);
      },
    );

    await t.step("pipelined units in one write are all answered in order", async () => {
      const x = await RawPgClient.connect(db.port, db.password);
      x.send(
        queryMessage("select 1"),
        queryMessage("select 1/0"),
        parseMessage("", "select 2"),
        ...bindExecute(),
        syncMessage(),
        queryMessage("select 3"),
      );
      const got = [
        ...await x.readUntil("Z"),
        ...await x.readUntil("Z"),
        ...await x.readUntil("Z"),
        ...await x.readUntil("Z"),
      ];
      expect(types(got)).toBe("TDCZEZ12DCZTDCZ");
      x.close();
    });

    await t.step("connection closed mid-transaction rolls back and frees the backend", async () => {
      const x = await RawPgClient.connect(db.port, db.password);
      expect(types(await x.query("BEGIN"))).toBe("CZ");
      await x.query("insert into receipts values ('gone', 'p', 'm1')");
      expect(db.stats().lockedBy).not.toBeNull();
      // b's query must wait for x's transaction, then run after the rollback
      const waiting = b`select count(*)::int as n from receipts where username = 'gone'`;
      x.close();
      expect(await waiting).toEqual([{ n: 0 }]);
      expect(db.stats().lockedBy).toBeNull();
    });

    await t.step("connection closed inside an extended batch does not commit it", async () => {
      const x = await RawPgClient.connect(db.port, db.password);
      x.send(
        parseMessage("", "insert into receipts values ('gone2', 'p', 'm')"),
        ...bindExecute(),
        FLUSH,
      );
      expect(types(await x.readUntil("C"))).toBe("12C");
      x.close();
      expect(await count(a, "gone2")).toBe(0);
    });

    await t.step("errors inside a transaction stay with that connection", async () => {
      const x = await RawPgClient.connect(db.port, db.password);
      await x.query("BEGIN");
      const failed = await x.query("select 1/0");
      expect(types(failed)).toBe("EZ");
      expect(failed[1].body[0]).toBe(0x45); // 'E': failed transaction block
      expect(types(await x.query("ROLLBACK"))).toBe("CZ");
      expect(await a`select 1 as one`).toEqual([{ one: 1 }]);
      x.close();
    });

    await t.step("SSLRequest is declined with N and the session continues", async () => {
      const x = await RawPgClient.connect(db.port, false);
      const ssl = new Uint8Array(8);
      new DataView(ssl.buffer).setInt32(0, 8);
      new DataView(ssl.buffer).setInt32(4, SSL_REQUEST_CODE);
      x.send(ssl);
      expect(await x.readBytes(1)).toEqual(new Uint8Array([0x4e]));
      expect(types(await x.handshake(db.password))).toMatch(/^R.*Z$/);
      expect(types(await x.query("select 1"))).toBe("TDCZ");
      x.close();
    });

    await t.step("oversized message is rejected with FATAL 54000; others unaffected", async () => {
      const x = await RawPgClient.connect(db.port, db.password);
      const header = new Uint8Array(5);
      header[0] = 0x51;
      new DataView(header.buffer).setInt32(1, 64 * 1024 * 1024 + 10);
      x.send(header);
      const rest = await x.closedByServer();
      expect(types(rest)).toBe("E");
      expect(errorCode(rest[0].body)).toBe("54000");
      expect(await a`select 2 as two`).toEqual([{ two: 2 }]);
    });

    await t.step("COPY FROM STDIN is rejected instead of crashing PGlite", async () => {
      const x = await RawPgClient.connect(db.port, db.password);
      const got = await x.query("copy receipts from stdin");
      expect(types(got)).toBe("EZ");
      expect(errorCode(got[0].body)).toBe("0A000");
      expect(types(await x.query("select 1"))).toBe("TDCZ");
      x.close();
    });

    await t.step("Terminate after pipelined work runs the work first", async () => {
      const x = await RawPgClient.connect(db.port, db.password);
      x.send(queryMessage("insert into receipts values ('term', 'p', 'm')"), message("X"));
      await x.closedByServer();
      expect(await count(a, "term")).toBe(1);
    });

    await t.step("stats count connections and units", () => {
      const s = db.stats();
      expect(s.connections).toBeGreaterThanOrEqual(1);
      expect(s.connectionsTotal).toBeGreaterThanOrEqual(10);
      expect(s.units).toBeGreaterThan(500);
      expect(s.calls).toBeLessThanOrEqual(s.units);
      expect(s.bytesIn).toBeGreaterThan(0);
      expect(s.bytesOut).toBeGreaterThan(0);
    });
  } finally {
    await Promise.all([a.end(), b.end(), c.end()]);
    await db.close();
  }
});

Deno.test("embedded server: idle-in-transaction connection is closed and rolled back", async () => {
  const db = await EmbeddedDatabase.start({ port: 0, idleInTransactionTimeoutMs: 200 });
  const sql = connectStore(db.url);
  try {
    const x = await RawPgClient.connect(db.port, db.password);
    await x.query("BEGIN");
    await x.query("insert into receipts values ('idle', 'p', 'm')");
    const rest = await x.closedByServer();
    expect(errorCode(rest[0].body)).toBe("25P03");
    expect(await count(sql, "idle")).toBe(0);
  } finally {
    await sql.end();
    await db.close();
  }
});

Deno.test("embedded server: by default a client frozen in a transaction holds the others up for 5 s, not longer", async () => {
  const db = await EmbeddedDatabase.start({ port: 0 });
  const sql = connectStore(db.url);
  try {
    const frozen = await RawPgClient.connect(db.port, db.password);
    await frozen.query("BEGIN");
    await frozen.query("insert into receipts values ('frozen', 'p', 'm')");
    // Another server's write waits for the backend, then gets it when the frozen one is cut off.
    const t0 = performance.now();
    await sql`insert into receipts values ('other', 'p', 'm')`;
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(IDLE_IN_TRANSACTION_TIMEOUT_MS - 1_000);
    expect(waited).toBeLessThan(IDLE_IN_TRANSACTION_TIMEOUT_MS + 15_000); // a loaded machine's slack
    expect(errorCode((await frozen.closedByServer())[0].body)).toBe("25P03");
    expect(await count(sql, "frozen")).toBe(0); // rolled back
    expect(await count(sql, "other")).toBe(1);
  } finally {
    await sql.end();
    await db.close();
  }
});

Deno.test("embedded server: close() disconnects clients and persists data", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fc_pglite_" });
  try {
    const first = await EmbeddedDatabase.start({ dataDir: `${dataDir}/nested/db`, port: 0 });
    const sql = connectStore(first.url);
    await sql`insert into receipts values ('persist', 'p', 'm')`;
    const raw = await RawPgClient.connect(first.port, first.password);
    await first.close();
    await first.closed;
    expect(await raw.closedByServer()).toEqual([]);
    await sql.end();

    const second = await EmbeddedDatabase.start({ dataDir: `${dataDir}/nested/db`, port: 0 });
    const again = connectStore(second.url);
    try {
      expect(await count(again, "persist")).toBe(1);
      expect(await again`select count(*) as n from schema_migrations`).toEqual([{
        n: MIGRATION_FILES.length,
      }]);
    } finally {
      await again.end();
      await second.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("embedded server: a taken port is ADDRESS_IN_USE, naming it", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = listener.addr.port;
    const err = await EmbeddedDatabase.start({ port }).catch((e) => e);
    expect(err.code).toBe("ADDRESS_IN_USE");
    expect(err.message).toBe(
      `127.0.0.1:${port} is already in use (is another FastChat running? choose another port with --port)`,
    );
    expect(err.details).toEqual({ host: "127.0.0.1", port, flag: "--port" });
  } finally {
    listener.close();
  }
});

Deno.test("embedded server: a data directory is locked against a second server", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fc_lock_" });
  try {
    const first = await EmbeddedDatabase.start({ dataDir, port: 0 });
    try {
      const err = await EmbeddedDatabase.start({ dataDir, port: 0 }).catch((e) => e);
      expect(err.code).toBe("STORE_UNAVAILABLE");
      expect(err.message).toContain("in use");
    } finally {
      await first.close();
    }
    const again = await EmbeddedDatabase.start({ dataDir, port: 0 }); // lock released
    await again.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("embedded server: connections made during startup wait for the migrated schema", async () => {
  // Hold PGlite's creation until a client has connected, so the connection
  // is always made before the database exists (the race, forced).
  const create = PGlite.create;
  const creating = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  PGlite.create = (async (dataDir?: string) => {
    creating.resolve();
    await release.promise;
    return await Reflect.apply(create, PGlite, [dataDir]);
  }) as typeof create;
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  let started = false;
  const starting = EmbeddedDatabase.start({ port, password: "early-secret" }).then((db) => {
    started = true;
    return db;
  });
  try {
    await creating.promise; // listening: the port is bound before PGlite opens
    const raw = await RawPgClient.connect(port, false);
    try {
      // Accepted and authenticated while there is no database yet; the
      // startup packet and a query sent right behind it wait for the schema.
      await raw.authenticate("early-secret");
      raw.send(queryMessage("select count(*) from users"));
      expect(started).toBe(false);
      release.resolve();
      expect(types(await raw.readUntil("Z")).replaceAll("S", "")).toBe("RKZ"); // AuthenticationOk, BackendKeyData
      // (PGlite may add ParameterStatus 'S' messages after a fresh startup)
      expect(types(await raw.readUntil("Z")).replaceAll("S", "")).toBe("TDCZ");
    } finally {
      raw.close();
    }
  } finally {
    release.resolve();
    PGlite.create = create;
    await (await starting).close();
  }
});
