/**
 * Silent connections are closed: an authenticated client that sends nothing
 * (not even a ping) past the idle timeout, and a connection that never says
 * hello (the login deadline). Real loopback TCP against a real chat server.
 */
import { expect } from "expect";
import {
  expectAdmitted,
  openTestDb,
  RawPeer,
  registerRaw,
  withChatServer,
} from "@fastchat/testing";
import { exportPublicKeys, generateIdentity } from "@fastchat/lib/crypto";
import { IdleTimeout } from "./idle_timeout.ts";

const IDLE_MS = 1500;

/** A connection logged in as a new user `user`, its backlog synced. */
async function registered(host: string, port: number, user: string): Promise<RawPeer> {
  // Keys first: the 1 s login deadline runs from the connection, not from RSA key generation.
  const keys = await exportPublicKeys(await generateIdentity());
  const p = await expectAdmitted(host, port);
  await registerRaw(p, user, 1, keys);
  await p.waitFrame((f) => f.t === "synced");
  return p;
}

Deno.test("idle timeout: silent clients are closed, pinging ones are not", async (t) => {
  const db = await openTestDb("pglite");
  try {
    const opts = { anonRate: 1000, limits: { idleTimeoutMs: IDLE_MS, authTimeoutMs: 1000 } };
    await withChatServer(db, opts, async (server) => {
      const { host, port } = server;
      await t.step("a logged-in client that sends nothing: TIMEOUT, closed, left", async () => {
        const p = await registered(host, port, "alice");
        expect(server.router.online("alice")).toBe(true);
        const left = server.sessionClosed((u) => u === "alice");
        // Bounded, so a missing timeout fails instead of hanging.
        await p.waitFrame((f) => f.t === "error" && f.code === "TIMEOUT", 10_000);
        await p.closed;
        await left;
        expect(p.frames.at(-1)).toMatchObject({ t: "error", code: "TIMEOUT" });
        expect(server.router.online("alice")).toBe(false);
      });
      await t.step(
        "pings keep a client past several timeouts; silence then closes it",
        async () => {
          const p = await registered(host, port, "bob");
          // 3 timeouts' worth of pings, 10 per timeout; each waits for its pong.
          for (let rid = 2; rid < 32; rid++) {
            await p.send({ t: "ping", rid });
            await p.waitFrame((f) => f.t === "pong" && f.rid === rid);
            await new Promise((r) => setTimeout(r, IDLE_MS / 10));
          }
          expect(p.ended).toBe(false);
          expect(p.frames.some((f) => f.t === "error")).toBe(false);
          expect(server.router.online("bob")).toBe(true);
          // Now silent.
          await p.waitFrame((f) => f.t === "error" && f.code === "TIMEOUT", 10_000);
          await p.closed;
          expect(p.frames.at(-1)).toMatchObject({ t: "error", code: "TIMEOUT" });
        },
      );
      await t.step("a connection that never says hello: closed at the login deadline", async () => {
        const p = await RawPeer.connect(host, port);
        await p.closed;
        expect(p.frames.at(-1)).toMatchObject({ t: "error", code: "TIMEOUT" });
      });
    });
  } finally {
    await db.close();
  }
});

Deno.test("IdleTimeout: fires once after silence, never when stopped or disabled", async () => {
  let fired = 0;
  const silentFor = await new Promise<number>((resolve) => {
    const idle = new IdleTimeout(30, (ms) => {
      fired++;
      resolve(ms);
    });
    idle.seen();
  });
  expect(fired).toBe(1);
  expect(silentFor).toBeGreaterThanOrEqual(30);

  const stopped = new IdleTimeout(1, () => fired++);
  stopped.stop();
  const disabled = new IdleTimeout(0, () => fired++);
  disabled.seen();
  disabled.stop();
  // A later timer proves the stopped one's deadline has passed without a call.
  await new Promise((r) => setTimeout(r, 20));
  expect(fired).toBe(1);
});

Deno.test("IdleTimeout: timeouts of one length share a timer; each fires on its own silence", async () => {
  const fired: string[] = [];
  let resolveQuiet!: () => void;
  const quietFired = new Promise<void>((r) => resolveQuiet = r);
  const quiet = new IdleTimeout(400, () => {
    fired.push("quiet");
    resolveQuiet();
  });
  const stopped = new IdleTimeout(400, () => fired.push("stopped"));
  const busy = new IdleTimeout(400, () => fired.push("busy"));
  stopped.stop();
  // busy is seen every 5 ms until quiet has fired: it never nears 400 ms of silence.
  const keepAlive = setInterval(() => busy.seen(), 5);
  await quietFired;
  clearInterval(keepAlive);
  expect(fired).toEqual(["quiet"]);
  // Now busy goes silent too, and fires once.
  await new Promise<void>((r) => {
    const check = setInterval(() => {
      if (fired.length === 2) {
        clearInterval(check);
        r();
      }
    }, 5);
  });
  expect(fired).toEqual(["quiet", "busy"]);
  quiet.stop(); // already fired: harmless
});
