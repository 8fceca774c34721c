import { expect } from "expect";
import { ChatClient } from "@fastchat/client";
import { connectStore } from "@fastchat/db/connect";
import {
  exportPublicKeys,
  generateIdentity,
  MIN_SALT_BYTES,
  PBKDF2_ITERATIONS,
} from "@fastchat/lib/crypto";
import { AccountService } from "./accounts.ts";
import { ChatServer } from "./chat_server.ts";
import { LoginThrottle } from "./login_throttle.ts";
import { PasswordHasher } from "./password_hasher.ts";
import { ChatStore } from "./store.ts";
import { DB_KINDS, openTestDb, RawPeer, type TestDb } from "@fastchat/testing";

const SCRYPT = { N: 1024, r: 8, p: 1 };

async function startServer(db: TestDb): Promise<{ server: ChatServer; stop(): Promise<void> }> {
  const sql = connectStore(db.url, { max: 2 });
  const server = await ChatServer.start({ sql, port: 0, scrypt: SCRYPT, anonRate: 10_000 });
  return {
    server,
    stop: async () => {
      await server.close();
      await sql.end();
    },
  };
}

/** The fields of `ok`/`error` replies these tests look at. */
interface Reply {
  t: string;
  rid?: number;
  user?: string;
  code?: string;
  retry?: number;
  kdf?: { salt: Uint8Array; iter: number };
}

let rid = 0;
/** Sends one auth request on a fresh raw connection and returns its reply frame. */
async function ask(s: ChatServer, frame: Record<string, unknown>): Promise<Reply> {
  const p = await RawPeer.connect(s.host, s.port);
  try {
    await p.send({ t: "hello", v: 1 });
    await p.waitFrame((f) => f.t === "welcome");
    const id = ++rid;
    await p.send({ ...frame, rid: id });
    return await p.waitFrame((f) => (f.t === "ok" || f.t === "error") && f.rid === id) as Reply;
  } finally {
    p.close();
    await p.closed;
  }
}

function withoutRid(f: Reply): Record<string, unknown> {
  const { rid: _rid, ...rest } = f;
  return rest;
}

for (const kind of DB_KINDS) {
  Deno.test(`login guard (${kind}): login reveals nothing and throttles are shared`, async (t) => {
    const db = await openTestDb(kind);
    let a = await startServer(db);
    const b = await startServer(db);
    try {
      const home = await Deno.makeTempDir();
      const alice = new ChatClient({
        server: { host: a.server.host, port: a.server.port },
        homeRoot: home,
      });
      await alice.register("alice", "alice-password-1");
      await alice.close();

      await t.step("prelogin of an unknown user looks like a real account's", async () => {
        const real = await ask(a.server, { t: "prelogin", user: "alice" });
        const fake = await ask(a.server, { t: "prelogin", user: "nobody" });
        expect(real).toMatchObject({ t: "ok", user: "alice" });
        expect(fake).toMatchObject({ t: "ok", user: "nobody" });
        expect(Object.keys(fake).sort()).toEqual(Object.keys(real).sort());
        expect(fake.kdf!.salt).toBeInstanceOf(Uint8Array);
        expect(fake.kdf!.salt.length).toBe(real.kdf!.salt.length);
        expect(fake.kdf!.salt.length).toBe(MIN_SALT_BYTES);
        expect(fake.kdf!.iter).toBe(real.kdf!.iter);
        expect(fake.kdf!.iter).toBe(PBKDF2_ITERATIONS);
        const other = await ask(a.server, { t: "prelogin", user: "nobody-else" });
        expect(other.kdf!.salt).not.toEqual(fake.kdf!.salt);
      });

      await t.step("fake kdf params are stable across servers and a restart", async () => {
        const first = await ask(a.server, { t: "prelogin", user: "ghost" });
        expect(await ask(a.server, { t: "prelogin", user: "ghost" })).toMatchObject({
          kdf: first.kdf,
        });
        expect((await ask(b.server, { t: "prelogin", user: "ghost" })).kdf).toEqual(first.kdf);
        await a.stop();
        a = await startServer(db);
        expect((await ask(a.server, { t: "prelogin", user: "ghost" })).kdf).toEqual(first.kdf);
      });

      await t.step("unknown user and wrong password get identical error frames", async () => {
        const auth = new Uint8Array(32).fill(7);
        const wrong = await ask(a.server, { t: "login", user: "alice", auth });
        const unknown = await ask(a.server, { t: "login", user: "nobody", auth });
        expect(wrong).toMatchObject({ t: "error", code: "INVALID_CREDENTIALS" });
        expect(withoutRid(unknown)).toEqual(withoutRid(wrong));
      });

      await t.step("failures from one address count once across two servers", async () => {
        // Fresh user: (carol, 127.0.0.1) has a limit of 5 in total, not 5 per server.
        const auth = new Uint8Array(32).fill(9);
        const codes: string[] = [];
        for (let i = 0; i < 8; i++) {
          const s = i % 2 === 0 ? a.server : b.server;
          const f = await ask(s, { t: "login", user: "carol", auth });
          codes.push(f.t === "error" ? f.code! : "OK");
          if (f.t === "error" && f.code === "RATE_LIMITED") {
            expect(f.retry).toBeGreaterThan(0);
          }
        }
        expect(codes).toEqual([
          ...Array(5).fill("INVALID_CREDENTIALS"),
          ...Array(3).fill("RATE_LIMITED"),
        ]);
      });
    } finally {
      await a.stop();
      await b.stop();
      await db.close();
    }
  });

  Deno.test(`login guard (${kind}): an attacked user still logs in from another address`, async () => {
    const db = await openTestDb(kind);
    const sql = connectStore(db.url, { max: 2 });
    try {
      const hasher = new PasswordHasher(SCRYPT);
      const accounts = new AccountService(new ChatStore(sql), hasher, {
        loginThrottle: { perUserAddr: 3, perAddr: 6 },
      });
      const keys = await exportPublicKeys(await generateIdentity());
      const good = new Uint8Array(32).fill(1);
      const bad = new Uint8Array(32).fill(2);
      await accounts.register({
        t: "register",
        rid: 1,
        user: "dave",
        auth: good,
        kdf: { salt: new Uint8Array(16), iter: PBKDF2_ITERATIONS },
        keys,
        backup: new Uint8Array(64),
      });
      const code = (p: Promise<unknown>) => p.then(() => "OK", (e) => e.code as string);
      const attacker = "198.51.100.66";
      const owner = "203.0.113.5";
      const seen: string[] = [];
      for (let i = 0; i < 4; i++) seen.push(await code(accounts.login("dave", bad, attacker)));
      expect(seen).toEqual([
        "INVALID_CREDENTIALS",
        "INVALID_CREDENTIALS",
        "INVALID_CREDENTIALS",
        "RATE_LIMITED",
      ]);
      // Even the right password is refused from the throttled address...
      expect(await code(accounts.login("dave", good, attacker))).toBe("RATE_LIMITED");
      // ...but dave, from his own address, is not locked out.
      expect(await code(accounts.login("dave", bad, owner))).toBe("INVALID_CREDENTIALS");
      expect(await code(accounts.login("dave", good, owner))).toBe("OK");
      // Success cleared (dave, owner): three more failures are allowed again.
      for (let i = 0; i < 3; i++) {
        expect(await code(accounts.login("dave", bad, owner))).toBe("INVALID_CREDENTIALS");
      }
      // The per-address cap spans users: the attacker's address is spent across names.
      const spray: string[] = [];
      for (let i = 0; i < 4; i++) spray.push(await code(accounts.login(`user${i}`, bad, attacker)));
      expect(spray).toContain("RATE_LIMITED");
    } finally {
      await sql.end();
      await db.close();
    }
  });

  Deno.test(`login throttle (${kind}): windows expire and prune removes them`, async () => {
    const db = await openTestDb(kind);
    const sql = connectStore(db.url, { max: 2 });
    try {
      const throttle = new LoginThrottle(sql, { perUserAddr: 2, perAddr: 100, windowMs: 300 });
      await throttle.fail("erin", "192.0.2.1");
      await throttle.fail("erin", "192.0.2.1");
      const err = await throttle.check("erin", "192.0.2.1").then(() => null, (e) => e);
      expect(err).toMatchObject({ code: "RATE_LIMITED" });
      expect(err.details.retryMs).toBeGreaterThan(0);
      expect(err.details.retryMs).toBeLessThanOrEqual(300);
      await new Promise((r) => setTimeout(r, err.details.retryMs + 50));
      await throttle.check("erin", "192.0.2.1");
      // An expired window restarts at 1 instead of adding to the old count.
      await throttle.fail("erin", "192.0.2.1");
      await throttle.check("erin", "192.0.2.1");
      expect(await throttle.prune()).toBe(0);
      expect(() => new LoginThrottle(sql, { perUserAddr: 0 })).toThrow();
    } finally {
      await sql.end();
      await db.close();
    }
  });
}

Deno.test("a wrong password rejects with INVALID_CREDENTIALS and emits no `disconnected`", async () => {
  const db = await openTestDb("pglite");
  const sql = connectStore(db.url, { max: 2 });
  // A short auth timeout: the server closes the idle connection after the failed login.
  // It counts from the connection's accept, and each login stretches the password
  // (PBKDF2, 100,000 iterations) in between: long enough for that on a loaded CI host
  // (200 ms was not: the second login's connection was closed under it).
  const server = await ChatServer.start({
    sql,
    port: 0,
    scrypt: SCRYPT,
    limits: { authTimeoutMs: 1_500 },
  });
  const events: { event: string; code?: string }[] = [];
  const mk = async () =>
    new ChatClient({
      server: { host: server.host, port: server.port },
      homeRoot: await Deno.makeTempDir(),
      kdfIterations: 100_000,
      onEvent: (e) => events.push(e),
    });
  const owner = await mk();
  const c = await mk();
  try {
    await owner.register("frank", "frank-password-1");
    await owner.close();
    await expect(c.login("frank", "not-franks-password")).rejects.toMatchObject({
      code: "INVALID_CREDENTIALS",
    });
    // Wait for the server to drop the unauthenticated connection, then log in properly.
    while (server.connections > 0) await new Promise((r) => setTimeout(r, 10));
    await c.login("frank", "frank-password-1");
    expect(c.user).toBe("frank");
    expect(events.filter((e) => e.event === "disconnected")).toEqual([]);
  } finally {
    await c.close();
    await server.close();
    await sql.end();
    await db.close();
  }
});
