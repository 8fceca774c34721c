/**
 * One small hostile frame must never take a component down: the structured
 * MessagePack bombs, sent before login over real TCP to a chat server and to
 * a load balancer, get `BAD_FRAME` and the component goes on serving. (On the
 * decoders of before, the 103-byte "nested array32s of 2^25-1" made msgpackr
 * allocate 4 GiB in 20 s: the process died of out-of-memory.)
 */
import { expect } from "expect";
import { connectStore } from "@fastchat/db/connect";
import { encodeFrame } from "@fastchat/lib/frame";
import { msgpackBombs } from "@fastchat/lib/msgpack_bombs";
import { FastChatError } from "@fastchat/lib/errors";
import { requestTicket } from "@fastchat/client/lb_client";
import { insertServer, openTestDb, RawPeer, withLoadBalancer } from "@fastchat/testing";
import { ChatServer } from "./chat_server.ts";
import { decodePeerFrame } from "./peer_protocol.ts";

/** Bombs that fit a pre-login frame (the deep-nesting one is 100 KB). */
const bombs = [...msgpackBombs()].filter(([, b]) => b.length > 0 && b.length < 64 * 1024);

Deno.test({
  name: "hostile frames: a chat server answers every bomb with BAD_FRAME and keeps serving",
  async fn() {
    const db = await openTestDb("pglite");
    const sql = connectStore(db.url, { max: 2 });
    const server = await ChatServer.start({ sql, port: 0, scrypt: { N: 1024, r: 8, p: 1 } });
    try {
      for (const [name, bomb] of bombs) {
        const p = await RawPeer.connect(server.host, server.port);
        await p.send({ t: "hello", v: 1 });
        await p.waitFrame((f) => f.t === "welcome");
        await p.write(encodeFrame(bomb));
        const e = await p.waitFrame((f) => f.t === "error");
        expect({ name, code: (e as { code: string }).code }).toEqual({ name, code: "BAD_FRAME" });
        p.close();
      }
      // still serving
      const p = await RawPeer.connect(server.host, server.port);
      await p.send({ t: "hello", v: 1 });
      await p.waitFrame((f) => f.t === "welcome");
      await p.send({ t: "ping", rid: 5 });
      await p.waitFrame((f) => f.t === "error" || f.t === "pong");
      p.close();
    } finally {
      await server.close();
      await sql.end();
      await db.close();
    }
  },
});

Deno.test({
  name: "hostile frames: a load balancer answers every bomb with BAD_FRAME and keeps serving",
  async fn() {
    const db = await openTestDb("pglite");
    try {
      await withLoadBalancer(db.url, {}, async (lb, sql) => {
        await insertServer(sql, { id: "fc-a", port: 7801 });
        for (const [name, bomb] of bombs) {
          const p = await RawPeer.connect(lb.host, lb.port);
          await p.write(encodeFrame(bomb));
          const e = await p.waitFrame((f) => f.t === "error");
          expect({ name, code: (e as { code: string }).code }).toEqual({
            name,
            code: "BAD_FRAME",
          });
          p.close();
        }
        expect((await requestTicket(lb)).server).toBe("fc-a");
      });
    } finally {
      await db.close();
    }
  },
});

Deno.test("hostile frames: the peer-link decoder refuses every bomb with a typed error", () => {
  for (const [name, bomb] of msgpackBombs()) {
    let code = "accepted";
    try {
      decodePeerFrame(bomb);
    } catch (e) {
      code = e instanceof FastChatError ? e.code : `untyped: ${e}`;
    }
    expect({ name, code }).toEqual({ name, code: "BAD_FRAME" });
  }
});
