/**
 * Bad input gets a clear, typed error and changes nothing: malformed and
 * oversized frames, missing handshake, unauthenticated requests, forged
 * tokens, throttled logins, slow readers.
 */
import { expect } from "expect";
import { ChatClient, type ClientEvent } from "@fastchat/client";
import { encodeFrame, FrameDecoder } from "@fastchat/lib/frame";
import { decodeServerFrame, type ServerFrame } from "@fastchat/lib/protocol";
import { exportPublicKeys, generateIdentity } from "@fastchat/lib/crypto";
import { Packr } from "msgpackr";
import { DB_KINDS, EventLog, openTestDb, RawPeer, withChatServer } from "@fastchat/testing";

async function hello(p: RawPeer): Promise<void> {
  await p.send({ t: "hello", v: 1 });
  await p.waitFrame((f) => f.t === "welcome");
}

/**
 * Registers `user` over the raw protocol on a new connection (rid 1), so the
 * test knows the auth key; returns the connection, the key and the reply.
 */
async function registerRaw(
  host: string,
  port: number,
  user: string,
): Promise<{ peer: RawPeer; auth: Uint8Array; reply: ServerFrame }> {
  const auth = crypto.getRandomValues(new Uint8Array(32));
  const keys = await exportPublicKeys(await generateIdentity());
  const peer = await RawPeer.connect(host, port);
  await hello(peer);
  await peer.send({
    t: "register",
    rid: 1,
    user,
    auth,
    keys,
    backup: new Uint8Array(64),
    kdf: { salt: new Uint8Array(16), iter: 100_000 },
  });
  const reply = await peer.waitFrame((f) => "rid" in f && f.rid === 1);
  return { peer, auth, reply };
}

for (const kind of DB_KINDS) {
  Deno.test({
    name: `bad input (${kind}): every bad request gets its error code`,
    async fn(t) {
      const db = await openTestDb(kind);
      try {
        await withChatServer(db, { limits: { authTimeoutMs: 1500 } }, async (server) => {
          const { host, port } = server;
          await t.step("garbage bytes get BAD_FRAME, then the connection is closed", async () => {
            const p = await RawPeer.connect(host, port);
            for (let i = 0; i < 3; i++) {
              await p.write(encodeFrame(new Uint8Array([0xc1, 0xff, 0x00])));
            }
            await p.closed;
            expect(p.frames.filter((f) => f.t === "error" && f.code === "BAD_FRAME").length)
              .toBeGreaterThan(0);
            expect(p.frames.at(-1)).toMatchObject({ t: "error", code: "TOO_MANY_ERRORS" });
          });
          await t.step(
            "a frame over the 64 KiB pre-login limit closes the connection",
            async () => {
              const p = await RawPeer.connect(host, port);
              const header = new Uint8Array([0, 1, 0, 1]); // 65537 bytes announced
              await p.write(header);
              await p.closed;
              expect(p.ended).toBe(true);
            },
          );
          await t.step("requests before hello get HANDSHAKE_REQUIRED", async () => {
            const p = await RawPeer.connect(host, port);
            await p.send({ t: "ping", rid: 1 });
            await p.waitFrame((f) => f.t === "error" && f.code === "HANDSHAKE_REQUIRED");
            p.close();
          });
          await t.step("an unsupported version is refused", async () => {
            const p = await RawPeer.connect(host, port);
            await p.send({ t: "hello", v: 99 });
            await p.waitFrame((f) => f.t === "error" && f.code === "UNSUPPORTED_VERSION");
            await p.closed;
          });
          await t.step("no login within the deadline: TIMEOUT and closed", async () => {
            const p = await RawPeer.connect(host, port);
            await hello(p);
            await p.closed;
            expect(p.frames.at(-1)).toMatchObject({ t: "error", code: "TIMEOUT" });
          });
          await t.step("unauthenticated send, keys, ack get NOT_AUTHENTICATED", async () => {
            const p = await RawPeer.connect(host, port);
            await hello(p);
            await p.send({
              t: "send",
              id: "abcdefgh123",
              to: "bob",
              kind: "dm",
              ts: 1,
              body: new Uint8Array(3),
            });
            await p.waitFrame((f) =>
              f.t === "error" && f.code === "NOT_AUTHENTICATED" && f.id === "abcdefgh123"
            );
            await p.send({ t: "keys", rid: 7, user: "bob" });
            await p.waitFrame((f) =>
              f.t === "error" && f.code === "NOT_AUTHENTICATED" && f.rid === 7
            );
            p.close();
          });
          await t.step("malformed fields get BAD_REQUEST naming the field", async () => {
            const p = await RawPeer.connect(host, port);
            await hello(p);
            await p.send({ t: "prelogin", rid: 3, user: "NOT VALID" });
            const e = await p.waitFrame((f) => f.t === "error" && f.code === "BAD_REQUEST");
            expect((e as { message: string }).message).toContain("user");
            p.close();
          });
          await t.step("forged and malformed resume tokens get INVALID_TOKEN", async () => {
            const p = await RawPeer.connect(host, port);
            await hello(p);
            await p.send({
              t: "resume",
              rid: 4,
              token: "AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
            });
            await p.waitFrame((f) => f.t === "error" && f.code === "INVALID_TOKEN" && f.rid === 4);
            p.close();
          });

          const log = new EventLog<ClientEvent>();
          const home = await Deno.makeTempDir();
          const mk = () =>
            new ChatClient({
              server: { host, port },
              homeRoot: home,
              kdfIterations: 100_000,
              onEvent: log.push,
            });
          const alice = mk();
          await alice.register("alice", "alice-password-1");

          await t.step(
            "sending to an unknown user gets UNKNOWN_USER for that message",
            async () => {
              const id = await alice.send("nobody", "hello?").catch((e) => e);
              // The key fetch for an unknown user fails before anything is sent.
              expect(id).toMatchObject({ code: "UNKNOWN_USER" });
            },
          );

          await t.step("a resume token works until /logout revokes it", async () => {
            const { peer: p, reply: reg } = await registerRaw(host, port, "bob");
            const token = (reg as { token?: string }).token!;
            expect(reg).toMatchObject({ t: "ok", user: "bob" });
            // The token resumes a second connection without the password.
            const q = await RawPeer.connect(host, port);
            await hello(q);
            await q.send({ t: "resume", rid: 2, token });
            expect(await q.waitFrame((f) => "rid" in f && f.rid === 2)).toMatchObject({
              t: "ok",
              user: "bob",
            });
            q.close();
            // Logout revokes it: a stolen copy is now useless.
            await p.send({ t: "logout", rid: 3 });
            expect(await p.waitFrame((f) => "rid" in f && f.rid === 3)).toMatchObject({ t: "ok" });
            p.close();
            const r = await RawPeer.connect(host, port);
            await hello(r);
            await r.send({ t: "resume", rid: 4, token });
            expect(await r.waitFrame((f) => "rid" in f && f.rid === 4)).toMatchObject({
              t: "error",
              code: "INVALID_TOKEN",
            });
            r.close();
          });

          await t.step("repeated wrong passwords are throttled with RATE_LIMITED", async () => {
            const c = mk();
            const codes: string[] = [];
            for (let i = 0; i < 7; i++) {
              codes.push(
                await c.login("alice", `wrong-password-${i}`).then(() => "OK", (e) => e.code),
              );
            }
            expect(codes.slice(0, 5)).toEqual(Array(5).fill("INVALID_CREDENTIALS"));
            expect(codes.slice(5)).toContain("RATE_LIMITED");
            await c.close();
          });
          await alice.close();
        });
      } finally {
        await db.close();
      }
    },
  });

  Deno.test({
    name: `bad input (${kind}): a reader that never reads is cut off, its messages stay stored`,
    async fn() {
      const db = await openTestDb(kind);
      try {
        await withChatServer(
          db,
          { limits: { maxQueueBytes: 256 * 1024, writeStallMs: 1000 } },
          async (server) => {
            const { host, port } = server;
            const home = await Deno.makeTempDir();
            const logA = new EventLog<ClientEvent>();
            const alice = new ChatClient({
              server: { host, port },
              homeRoot: home,
              kdfIterations: 100_000,
              onEvent: logA.push,
            });
            await alice.register("alice", "alice-password-1");
            // "bob" registered over the raw protocol, so the test knows his auth key.
            const { peer: reg, auth, reply } = await registerRaw(host, port, "bob");
            expect(reply).toMatchObject({ t: "ok", rid: 1 });
            reg.close();
            // A bob session that logs in and then never reads.
            const slow = await Deno.connect({ hostname: host, port });
            const packr = new Packr({ useRecords: false });
            for (const f of [{ t: "hello", v: 1 }, { t: "login", rid: 1, user: "bob", auth }]) {
              await slow.write(encodeFrame(packr.pack(f)));
            }
            // Read until the login reply (the session is attached by then), then stop reading.
            const dec = new FrameDecoder(1 << 20);
            const rbuf = new Uint8Array(256);
            let loggedIn = false;
            while (!loggedIn) {
              const n = await slow.read(rbuf);
              if (n === null) throw new Error("slow peer closed early");
              loggedIn = dec.push(rbuf.subarray(0, n)).some((f) => decodeServerFrame(f).t === "ok");
            }
            expect(server.router.online("bob")).toBe(true);
            const cutOff = server.sessionClosed((u, code) =>
              u === "bob" && code === "SLOW_CONSUMER"
            );
            const chunk = "x".repeat(64 * 1024);
            const N = 500; // ~32 MB: far beyond kernel socket buffers and the 256 KiB queue limit
            for (let i = 0; i < N; i++) await alice.send("bob", `${i} ${chunk}`);
            await alice.idle(); // every message acknowledged to the sender
            // The server cuts the slow reader off (it never read): then reading drains to EOF.
            await cutOff;
            const buf = new Uint8Array(1 << 16);
            while ((await slow.read(buf).catch(() => null)) !== null) { /* drain */ }
            slow.close();
            expect(server.router.online("bob")).toBe(false);
            // Bob comes back and every message is still there.
            const back = await RawPeer.connect(host, port);
            await hello(back);
            await back.send({ t: "login", rid: 2, user: "bob", auth });
            await back.waitFrame((f) => f.t === "ok" && f.rid === 2);
            const got = await back.waitFrames((f) => f.t === "msg", N, 60_000);
            expect(got.length).toBe(N);
            back.close();
            await alice.close();
          },
        );
      } finally {
        await db.close();
      }
    },
  });
}
