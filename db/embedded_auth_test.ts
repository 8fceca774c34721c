/**
 * The embedded server lets in only clients that prove the password
 * (SCRAM-SHA-256), over real TCP: postgres.js and a raw client.
 */
import { expect } from "expect";
import postgres from "postgres";
import { connectStore } from "./connect.ts";
import { withPassword } from "./credentials.ts";
import { EmbeddedDatabase } from "./embedded_server.ts";
import { errorCode, RawPgClient, ScramClient, startupMessage, types } from "./test_util.ts";
import { message, queryMessage } from "./wire.ts";

const PASSWORD = "right-password";

/** The SQLSTATE postgres.js reports for connecting to `url` (undefined: it worked). */
async function connectError(url: string, user?: string): Promise<string | undefined> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, fetch_types: false, user });
  try {
    await sql`select 1`;
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  } finally {
    await sql.end({ timeout: 0 });
  }
}

async function receipts(db: EmbeddedDatabase, username: string): Promise<number> {
  const sql = connectStore(db.url, { max: 1 });
  try {
    const [{ n }] = await sql`select count(*) as n from receipts where username = ${username}`;
    return n as number;
  } finally {
    await sql.end();
  }
}

/** What the server sent before closing; the raw client is closed afterwards. */
async function rejection(raw: RawPgClient): Promise<string> {
  const rest = await raw.closedByServer();
  raw.close();
  const error = rest.find((m) => m.type === "E");
  return `${types(rest)} ${error ? errorCode(error.body) : ""}`;
}

Deno.test("embedded auth: postgres.js gets in only with the right password and user", async () => {
  const db = await EmbeddedDatabase.start({ port: 0, password: PASSWORD });
  try {
    expect(db.url).toBe(withPassword(db.publicUrl, PASSWORD));
    expect(db.publicUrl).not.toContain(PASSWORD);
    const before = db.stats().units;
    expect(await connectError(withPassword(db.publicUrl, "wrong"))).toBe("28P01");
    expect(await connectError(db.publicUrl)).toBe("28P01"); // no password
    expect(await connectError(db.url, "admin")).toBe("28P01"); // right password, other user
    expect(db.stats().units).toBe(before); // nothing reached PGlite
    expect(await connectError(db.url)).toBeUndefined();
  } finally {
    await db.close();
  }
});

Deno.test("embedded auth: raw clients that do not prove the password run nothing", async (t) => {
  const db = await EmbeddedDatabase.start({ port: 0, password: PASSWORD });
  const insert = (who: string) => queryMessage(`insert into receipts values ('${who}', 'p', 'm')`);
  try {
    const before = db.stats().units;

    await t.step("a cleartext PasswordMessage (even the right password) is 28P01", async () => {
      const raw = await RawPgClient.connect(db.port, false);
      raw.send(startupMessage({ user: "postgres", database: "postgres" }));
      const sasl = await raw.read();
      expect(sasl?.type).toBe("R");
      expect(new DataView(sasl!.body.buffer).getInt32(0)).toBe(10); // AuthenticationSASL
      expect(new TextDecoder().decode(sasl!.body.subarray(4))).toBe("SCRAM-SHA-256\0\0");
      raw.send(message("p", PASSWORD), insert("cleartext"));
      expect(await rejection(raw)).toBe("E 28P01");
    });

    await t.step("a query pipelined behind the startup packet is not run", async () => {
      const raw = await RawPgClient.connect(db.port, false);
      raw.send(startupMessage({ user: "postgres", database: "postgres" }), insert("pipelined"));
      expect(await rejection(raw)).toBe("RE 28P01");
    });

    await t.step("a wrong SCRAM proof followed by a query is 28P01", async () => {
      const raw = await RawPgClient.connect(db.port, false);
      raw.send(startupMessage({ user: "postgres", database: "postgres" }));
      await raw.read();
      const scram = new ScramClient("wrong");
      raw.send(scram.initialResponse());
      const first = await raw.read();
      raw.send(scram.response(new TextDecoder().decode(first!.body.subarray(4))), insert("proof"));
      expect(await rejection(raw)).toBe("E 28P01");
    });

    await t.step("another user with the right password is 28P01", async () => {
      const raw = await RawPgClient.connect(db.port, false);
      const err = await raw.handshake(PASSWORD, "admin").catch((e) => String(e));
      raw.close();
      expect(err).toContain("28P01");
    });

    await t.step("another SASL mechanism is 28P01", async () => {
      const raw = await RawPgClient.connect(db.port, false);
      raw.send(startupMessage({ user: "postgres", database: "postgres" }));
      await raw.read();
      raw.send(new ScramClient(PASSWORD).initialResponse("SCRAM-SHA-256-PLUS"));
      expect(await rejection(raw)).toBe("E 28P01");
    });

    await t.step(
      "an oversized message while authenticating is refused before it arrives",
      async () => {
        const raw = await RawPgClient.connect(db.port, false);
        raw.send(startupMessage({ user: "postgres", database: "postgres" }));
        await raw.read();
        const header = new Uint8Array(5);
        header[0] = 0x70;
        new DataView(header.buffer).setInt32(1, 1024 * 1024);
        raw.send(header);
        expect(await rejection(raw)).toBe("E 54000");
      },
    );

    await t.step("the right password still works and nothing else ran", async () => {
      expect(db.stats().units).toBe(before);
      const raw = await RawPgClient.connect(db.port, PASSWORD);
      // (PGlite may add ParameterStatus 'S' messages after a fresh startup)
      expect(types(await raw.query("select 1")).replaceAll("S", "")).toBe("TDCZ");
      raw.close();
      for (const who of ["cleartext", "pipelined", "proof"]) {
        expect(await receipts(db, who)).toBe(0);
      }
    });
  } finally {
    await db.close();
  }
});

Deno.test("embedded auth: a client that never authenticates is closed after the timeout", async () => {
  const db = await EmbeddedDatabase.start({ port: 0, password: PASSWORD, authTimeoutMs: 200 });
  try {
    const silent = await RawPgClient.connect(db.port, false);
    expect(await rejection(silent)).toBe("E 08P01");
    const halfway = await RawPgClient.connect(db.port, false);
    halfway.send(startupMessage({ user: "postgres", database: "postgres" }));
    expect(await rejection(halfway)).toBe("RE 08P01");
    expect(db.stats().units).toBe(0);
  } finally {
    await db.close();
  }
});

Deno.test("embedded auth: connections still proving the password are capped", async () => {
  const db = await EmbeddedDatabase.start({
    port: 0,
    password: PASSWORD,
    maxPreAuthConnections: 2,
  });
  const raws: RawPgClient[] = [];
  try {
    raws.push(await RawPgClient.connect(db.port, false), await RawPgClient.connect(db.port, false));
    const third = await RawPgClient.connect(db.port, false);
    raws.push(third);
    expect(await rejection(third)).toBe("E 53300");
    // A slot comes back when one of them goes away …
    raws[0].close();
    let admitted: RawPgClient | undefined;
    for (let i = 0; i < 50 && !admitted; i++) {
      const c = await RawPgClient.connect(db.port, false);
      raws.push(c);
      c.send(startupMessage({ user: "postgres", database: "postgres" }));
      const m = await c.read();
      if (m?.type === "R") admitted = c; // asked for SASL: admitted
      else await new Promise((r) => setTimeout(r, 20)); // the close reaches the server
    }
    expect(admitted).toBeDefined();
    admitted!.close();
    raws[1].close();
    // … and an authenticated client holds none: two more wait beside it.
    let sql: ReturnType<typeof postgres> | undefined;
    for (let i = 0; i < 50 && !sql; i++) {
      try {
        const s = postgres(db.url, { max: 1, onnotice: () => {} });
        await s`select 1`;
        sql = s;
      } catch {
        await new Promise((r) => setTimeout(r, 20)); // slots are released as closes arrive
      }
    }
    expect(sql).toBeDefined();
    const a = await RawPgClient.connect(db.port, false);
    const b = await RawPgClient.connect(db.port, false);
    raws.push(a, b);
    for (const c of [a, b]) {
      c.send(startupMessage({ user: "postgres", database: "postgres" }));
      expect((await c.read())?.type).toBe("R");
    }
    await sql!.end();
  } finally {
    for (const c of raws) c.close();
    await db.close();
  }
});
