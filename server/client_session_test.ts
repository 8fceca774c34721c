/**
 * ClientSession over real loopback TCP: the connection's phases (handshake,
 * anonymous, authenticated, anonymous again after logout, closing) and the
 * dispatch of every frame to its owner (accounts, router), seen from a raw
 * protocol peer.
 */
import { expect } from "expect";
import { exportPublicKeys, generateIdentity } from "@fastchat/lib/crypto";
import { PRELOGIN_MAX_FRAME } from "@fastchat/lib/frame";
import type { ServerFrame } from "@fastchat/lib/protocol";
import { DB_KINDS, openTestDb, RawPeer, type TestDb, withChatServer } from "@fastchat/testing";
import type { ChatServer } from "./chat_server.ts";

const POST_LOGIN_MAX = 256 * 1024;

/** A server whose address limiter never gets in the way; default write-behind linger. */
async function withServer(fn: (s: ChatServer) => Promise<void>, db: TestDb): Promise<void> {
  await withChatServer(db, { anonRate: 1000, limits: { maxFrame: POST_LOGIN_MAX } }, fn);
}

/** Connects and completes the handshake; resolves with the `welcome` frame. */
async function connect(s: ChatServer): Promise<{ p: RawPeer; welcome: ServerFrame }> {
  const p = await RawPeer.connect(s.host, s.port);
  await p.send({ t: "hello", v: 1 });
  return { p, welcome: await p.waitFrame((f) => f.t === "welcome") };
}

/** Registers `user`; resolves with the reply (holding the resume token). */
async function register(p: RawPeer, user: string, rid = 1) {
  await p.send({ t: "register", rid, ...(await registerFields(user)) });
  return await reply(p, rid);
}

/** The reply to request `rid`. */
const reply = (p: RawPeer, rid: number) => p.waitFrame((f) => "rid" in f && f.rid === rid);

/** The frame types `p` received, from index `from` on (errors with their code). */
const kinds = (p: RawPeer, from = 0) =>
  p.frames.slice(from).map((f) => f.t === "error" ? `error:${f.code}` : f.t);

const sendFrame = (id: string, to: string, extra: Record<string, unknown> = {}) => ({
  t: "send",
  id,
  to,
  kind: "dm",
  ts: 1000,
  body: new TextEncoder().encode(`ct-${id}`),
  ...extra,
});

for (const kind of DB_KINDS) {
  Deno.test(`client session (${kind}): phases from handshake to closing`, async () => {
    const db = await openTestDb(kind);
    try {
      await withServer(async (s) => {
        const p = await RawPeer.connect(s.host, s.port);
        // Handshake: nothing but hello is served (and it costs no error budget).
        await p.send({ t: "ping", rid: 1 });
        await p.waitFrame((f) => f.t === "error" && f.code === "HANDSHAKE_REQUIRED");
        await p.send({ t: "hello", v: 1 });
        const welcome = await p.waitFrame((f) => f.t === "welcome");
        expect(welcome).toMatchObject({ v: 1, server: s.id, max: PRELOGIN_MAX_FRAME });

        // Anonymous: ping and the account requests are served, the rest refused.
        await p.send({ t: "ping", rid: 2 });
        expect(await reply(p, 2)).toEqual({ t: "pong", rid: 2 });
        await p.send({ t: "ticket", rid: 3 });
        expect(await reply(p, 3)).toMatchObject({ t: "error", code: "BAD_REQUEST" });
        await p.send({ t: "ack", items: [["bob", "msg-000001"]] });
        await p.waitFrame((f) => f.t === "error" && f.code === "NOT_AUTHENTICATED");

        // Authenticated: the reply raises the frame limit, then the backlog ends with `synced`.
        const mark = p.frames.length;
        const ok = await register(p, "alice", 4);
        expect(ok).toMatchObject({ t: "ok", user: "alice", max: POST_LOGIN_MAX });
        await p.waitFrame((f) => f.t === "synced");
        expect(kinds(p, mark)).toEqual(["ok", "synced"]);
        expect(s.router.online("alice")).toBe(true);
        // A second hello and a second registration are refused; other requests are served.
        const before = p.frames.length;
        await p.send({ t: "hello", v: 1 });
        await p.send({ t: "register", rid: 5, ...(await registerFields("alice2")) });
        expect(await reply(p, 5)).toMatchObject({ t: "error", code: "ALREADY_AUTHENTICATED" });
        expect(kinds(p, before)).toEqual(["error:BAD_REQUEST", "error:ALREADY_AUTHENTICATED"]);
        await p.send({ t: "keys", rid: 6, user: "alice" });
        expect(await reply(p, 6)).toMatchObject({ t: "ok", user: "alice" });
        expect(p.ended).toBe(false);

        // Logout: anonymous again, no longer routed to.
        await p.send({ t: "logout", rid: 7 });
        expect(await reply(p, 7)).toMatchObject({ t: "ok" });
        expect(s.router.online("alice")).toBe(false);
        await p.send({ t: "keys", rid: 8, user: "alice" });
        expect(await reply(p, 8)).toMatchObject({ t: "error", code: "NOT_AUTHENTICATED" });

        // Closing: the server's shutdown is the last frame, then the connection ends.
        const closed = s.sessionClosed(() => true);
        await s.close();
        await p.closed;
        await closed;
        expect(p.frames.at(-1)).toMatchObject({ t: "error", code: "SERVER_SHUTTING_DOWN" });
      }, db);
    } finally {
      await db.close();
    }
  });

  Deno.test(`client session (${kind}): send, ack, receipts and the backlog are dispatched`, async () => {
    const db = await openTestDb(kind);
    try {
      await withServer(async (s) => {
        const { p: alice } = await connect(s);
        const { p: bob } = await connect(s);
        const { p: carol } = await connect(s);
        const aliceToken = ((await register(alice, "alice")) as { token: string }).token;
        await register(bob, "bob");
        const carolToken = ((await register(carol, "carol")) as { token: string }).token;
        for (const p of [alice, bob, carol]) await p.waitFrame((f) => f.t === "synced");
        const carolGone = s.sessionClosed((u) => u === "carol");
        carol.close();
        await carolGone;

        // Live: bob gets the msg frame; his ack turns into alice's live receipt.
        await alice.send(sendFrame("live000001", "bob"));
        const msg = await bob.waitFrame((f) => f.t === "msg");
        expect(msg).toMatchObject({ id: "live000001", from: "alice", to: "bob", kind: "dm" });
        await bob.send({ t: "ack", items: [["alice", "live000001"]] });
        const live = await alice.waitFrame((f) => f.t === "delivered");
        expect(live).toEqual({ t: "delivered", items: [["bob", "live000001"]] });

        // To an unknown user: refused for that message.
        await alice.send(sendFrame("nobody0001", "nobody"));
        expect(await alice.waitFrame((f) => f.t === "error" && f.id === "nobody0001"))
          .toMatchObject({ code: "UNKNOWN_USER" });

        // Offline: stored at once (`sent`), with its key envelope.
        const env = crypto.getRandomValues(new Uint8Array(48));
        await alice.send(sendFrame("stored0001", "carol", { kid: "kid-000001", env }));
        expect(await alice.waitFrame((f) => f.t === "sent")).toEqual({
          t: "sent",
          ids: ["stored0001"],
        });

        // carol comes back: her backlog, then `synced`; the envelope is served on request.
        const { p: carol2 } = await connect(s);
        await carol2.send({ t: "resume", rid: 1, token: carolToken });
        await carol2.waitFrame((f) => f.t === "synced");
        expect(kinds(carol2)).toEqual(["welcome", "ok", "msg", "synced"]);
        expect(carol2.frames[2]).toMatchObject({ id: "stored0001", from: "alice", to: "carol" });
        await carol2.send({ t: "envelope", rid: 2, kid: "kid-000001" });
        expect(await reply(carol2, 2)).toMatchObject({ t: "ok", from: "alice", env });

        // carol's ack completes the stored message: alice's receipt is stored until `rack`.
        await carol2.send({ t: "ack", items: [["alice", "stored0001"]] });
        expect(await alice.waitFrame((f) => f.t === "delivered" && f.stored === true)).toEqual({
          t: "delivered",
          items: [["carol", "stored0001"]],
          stored: true,
        });
        await alice.send({ t: "rack", items: [["carol", "stored0001"]] });
        await alice.send({ t: "ping", rid: 9 }); // answered once the rack was dispatched
        await reply(alice, 9);
        await s.router.flush();
        // A new session of alice gets no receipt again, only `synced`.
        const { p: alice2 } = await connect(s);
        await alice2.send({ t: "resume", rid: 1, token: aliceToken });
        await alice2.waitFrame((f) => f.t === "synced");
        expect(kinds(alice2)).toEqual(["welcome", "ok", "synced"]);
        for (const p of [alice, bob, carol2, alice2]) {
          p.close();
          await p.closed;
        }
      }, db);
    } finally {
      await db.close();
    }
  });
}

/** The fields of a `register` request for `user`. */
async function registerFields(user: string) {
  return {
    user,
    auth: crypto.getRandomValues(new Uint8Array(32)),
    keys: await exportPublicKeys(await generateIdentity()),
    backup: new Uint8Array(64),
    kdf: { salt: new Uint8Array(16), iter: 100_000 },
  };
}
