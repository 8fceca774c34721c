/**
 * A session that decided to close reads nothing more, an oversized frame is
 * answered with `FRAME_TOO_LARGE` and its limit, the advertised frame
 * limits are the ones that apply (welcome before login, the login reply
 * after), and after logout the connection is anonymous again (deadline,
 * frame limit, error budget). All over real TCP.
 */
import { expect } from "expect";
import { exportPublicKeys, generateIdentity } from "@fastchat/lib/crypto";
import { encodeFrame, PRELOGIN_MAX_FRAME } from "@fastchat/lib/frame";
import { ServerConnection } from "@fastchat/client/server_connection";
import type { ChatServer, ChatServerOptions } from "./chat_server.ts";
import {
  DB_KINDS,
  openTestDb,
  RawPeer,
  registerRaw,
  type TestDb,
  withChatServer,
} from "@fastchat/testing";

const POST_LOGIN_MAX = 256 * 1024;

/** A chat server whose address limiter never gets in the way of these tests. */
const withServer = (
  db: TestDb,
  extra: Partial<ChatServerOptions>,
  fn: (s: ChatServer) => Promise<void>,
) => withChatServer(db, { anonRate: 1000, ...extra }, fn);

/** One write holding `n` frames that are not MessagePack. */
function badFrames(n: number): Uint8Array {
  const one = encodeFrame(new Uint8Array([0xc1, 0xff, 0x00]));
  const out = new Uint8Array(one.length * n);
  for (let i = 0; i < n; i++) out.set(one, i * one.length);
  return out;
}

async function hello(p: RawPeer): Promise<void> {
  await p.send({ t: "hello", v: 1 });
  await p.waitFrame((f) => f.t === "welcome");
}

async function logout(p: RawPeer, rid: number): Promise<void> {
  await p.send({ t: "logout", rid });
  expect(await p.waitFrame((f) => "rid" in f && f.rid === rid)).toMatchObject({ t: "ok" });
}

const errorsIn = (p: RawPeer) => p.frames.filter((f) => f.t === "error");

for (const kind of DB_KINDS) {
  Deno.test({
    name: `closing sessions (${kind}): nothing more is read once a session closes`,
    async fn(t) {
      const db = await openTestDb(kind);
      try {
        await withServer(db, {
          limits: {
            maxFrame: POST_LOGIN_MAX,
            maxErrorsBeforeAuth: 3,
            maxErrorsAfterAuth: 20,
            authTimeoutMs: 5000,
          },
        }, async (server) => {
          const { host, port } = server;
          await t.step(
            "2,000 bad frames in one write before login: at most budget + 1 answers",
            async () => {
              const p = await RawPeer.connect(host, port);
              await hello(p);
              await p.write(badFrames(2000));
              await p.closed;
              const errors = errorsIn(p);
              expect(errors.length).toBeLessThanOrEqual(3 + 1);
              expect(errors.at(-1)).toMatchObject({ code: "TOO_MANY_ERRORS" });
            },
          );
          await t.step(
            "2,000 bad frames in one write after login: at most budget + 1 answers",
            async () => {
              const p = await RawPeer.connect(host, port);
              await hello(p);
              await registerRaw(p, "erin");
              await p.write(badFrames(2000));
              await p.closed;
              const errors = errorsIn(p);
              expect(errors.length).toBeLessThanOrEqual(20 + 1);
              expect(errors.at(-1)).toMatchObject({ code: "TOO_MANY_ERRORS" });
            },
          );
          await t.step(
            "an oversized frame before login gets FRAME_TOO_LARGE with the limit",
            async () => {
              const p = await RawPeer.connect(host, port);
              await hello(p);
              await p.write(new Uint8Array([0, 1, 0, 1])); // 65,537 bytes announced
              await p.closed;
              expect(p.frames.at(-1)).toMatchObject({ t: "error", code: "FRAME_TOO_LARGE" });
              expect((p.frames.at(-1) as { message: string }).message).toContain(
                String(PRELOGIN_MAX_FRAME),
              );
            },
          );
          await t.step(
            "an oversized frame after login gets FRAME_TOO_LARGE with the limit",
            async () => {
              const p = await RawPeer.connect(host, port);
              await hello(p);
              await registerRaw(p, "frank");
              // 64 KiB + 1 passes the frame limit now (it is only not MessagePack)...
              await p.write(encodeFrame(new Uint8Array(PRELOGIN_MAX_FRAME + 1)));
              const e = await p.waitFrame((f) => f.t === "error");
              expect(e).not.toMatchObject({ code: "FRAME_TOO_LARGE" });
              // ...one byte over the raised limit does not.
              const header = new Uint8Array(4);
              new DataView(header.buffer).setUint32(0, POST_LOGIN_MAX + 1);
              await p.write(header);
              await p.closed;
              expect(p.frames.at(-1)).toMatchObject({ t: "error", code: "FRAME_TOO_LARGE" });
              expect((p.frames.at(-1) as { message: string }).message).toContain(
                String(POST_LOGIN_MAX),
              );
            },
          );
          await t.step(
            "valid frames after the close decision, in the same write, go unanswered",
            async () => {
              const p = await RawPeer.connect(host, port);
              await hello(p);
              const before = p.frames.length;
              // TOO_MANY_ERRORS closes; the pings ({t:"ping"}) in the same write must go unanswered.
              const pings = encodeFrame(
                new Uint8Array([0x81, 0xa1, 0x74, 0xa4, 0x70, 0x69, 0x6e, 0x67]),
              );
              const both = new Uint8Array([...badFrames(3), ...pings, ...pings]);
              await p.write(both);
              await p.closed;
              expect(p.frames.slice(before).map((f) => f.t === "error" ? f.code : f.t)).toEqual([
                "BAD_FRAME",
                "BAD_FRAME",
                "BAD_FRAME",
                "TOO_MANY_ERRORS",
              ]);
            },
          );
        });
      } finally {
        await db.close();
      }
    },
  });

  Deno.test({
    name:
      `closing sessions (${kind}): advertised limits and logout make the socket anonymous again`,
    async fn(t) {
      const db = await openTestDb(kind);
      try {
        await withServer(db, {
          limits: { maxFrame: POST_LOGIN_MAX, authTimeoutMs: 1500, maxErrorsBeforeAuth: 3 },
        }, async (server) => {
          const { host, port } = server;
          await t.step(
            "welcome advertises 64 KiB; the register reply the raised limit",
            async () => {
              const c = await ServerConnection.connect({ host, port, onPush: () => {} });
              expect(c.maxFrame).toBe(PRELOGIN_MAX_FRAME);
              const ok = await c.request({
                t: "register",
                user: "gina",
                auth: crypto.getRandomValues(new Uint8Array(32)),
                keys: await exportPublicKeys(await generateIdentity()),
                backup: new Uint8Array(64),
                kdf: { salt: new Uint8Array(16), iter: 100_000 },
              });
              expect(ok.max).toBe(POST_LOGIN_MAX);
              expect(c.maxFrame).toBe(POST_LOGIN_MAX);
              c.close();
            },
          );
          await t.step("log in, log out, then silence: TIMEOUT at the login deadline", async () => {
            const p = await RawPeer.connect(host, port);
            await hello(p);
            await registerRaw(p, "hank");
            await logout(p, 2);
            const closedByServer = server.sessionClosed((u) => u === "");
            // The deadline is 1.5 s; the wait is bounded so a missing deadline fails, not hangs.
            await p.waitFrame((f) => f.t === "error" && f.code === "TIMEOUT", 10_000);
            await p.closed;
            await closedByServer;
            expect(p.frames.at(-1)).toMatchObject({ t: "error", code: "TIMEOUT" });
          });
          await t.step("after logout the pre-login frame limit applies again", async () => {
            const p = await RawPeer.connect(host, port);
            await hello(p);
            await registerRaw(p, "ivy");
            await logout(p, 2);
            await p.write(new Uint8Array([0, 1, 0, 1])); // 65,537 bytes announced
            await p.closed;
            expect(p.frames.at(-1)).toMatchObject({ t: "error", code: "FRAME_TOO_LARGE" });
          });
          await t.step("after logout the pre-login error budget applies again", async () => {
            const p = await RawPeer.connect(host, port);
            await hello(p);
            await registerRaw(p, "jack");
            await logout(p, 2);
            await p.write(badFrames(2000));
            await p.closed;
            const errors = errorsIn(p);
            expect(errors.length).toBeLessThanOrEqual(3 + 1);
            expect(errors.at(-1)).toMatchObject({ code: "TOO_MANY_ERRORS" });
          });
        });
      } finally {
        await db.close();
      }
    },
  });
}
