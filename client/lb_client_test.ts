import { expect } from "expect";
import { FastChatError } from "@fastchat/lib/errors";
import { encodeFrame } from "@fastchat/lib/frame";
import { encodePayload, type ServerFrame } from "@fastchat/lib/protocol";
import { LoadBalancer } from "@fastchat/lb/lb_server";
import { TicketSigner } from "@fastchat/lb/ticket_signer";
import { connectStore } from "@fastchat/db/connect";
import { DB_KINDS, openTestDb } from "@fastchat/testing";
import { requestTicket } from "./lb_client.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const welcome: ServerFrame = { t: "welcome", v: 1, server: "lb-test", max: 4096 };

/** A TCP listener that answers the hello with `welcome` and the next request with `reply`. */
function fakeLb(reply: ServerFrame | null): { port: number; close: () => void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  (async () => {
    try {
      for await (const conn of listener) {
        conns.push(conn);
        if (!reply) continue; // accept, then say nothing
        const buf = new Uint8Array(4096);
        await conn.read(buf); // hello
        await conn.write(encodeFrame(encodePayload(welcome)));
        await conn.read(buf); // the ticket request
        await conn.write(encodeFrame(encodePayload(reply)));
      }
    } catch { /* closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: () => {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

Deno.test({
  name: "requestTicket: CONNECT_FAILED when no LB listens",
  ...opts,
  async fn() {
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const err = await requestTicket({ host: "127.0.0.1", port }).catch((e) => e);
    expect(err).toBeInstanceOf(FastChatError);
    expect(err.code).toBe("CONNECT_FAILED");
    expect(err.message).toContain(`127.0.0.1:${port}`);
  },
});

Deno.test({
  name: "requestTicket: TIMEOUT when the LB accepts but never answers",
  ...opts,
  async fn() {
    const lb = fakeLb(null);
    try {
      const err = await requestTicket({ host: "127.0.0.1", port: lb.port }, { timeoutMs: 200 })
        .catch((e) => e);
      expect(err.code).toBe("TIMEOUT");
    } finally {
      lb.close();
    }
  },
});

Deno.test({
  name: "requestTicket: the LB's error code is passed on; an incomplete reply is BAD_FRAME",
  ...opts,
  async fn() {
    const refusing = fakeLb({
      t: "error",
      rid: 1,
      code: "RATE_LIMITED",
      message: "slow down",
      retry: 700,
    });
    const incomplete = fakeLb({ t: "ok", rid: 1, server: "fc-1" });
    try {
      const err = await requestTicket({ host: "127.0.0.1", port: refusing.port }).catch((e) => e);
      expect(err).toMatchObject({ code: "RATE_LIMITED", message: "slow down" });
      expect(err.details.retryMs).toBe(700);
      await expect(requestTicket({ host: "127.0.0.1", port: incomplete.port }))
        .rejects.toMatchObject({ code: "BAD_FRAME" });
    } finally {
      refusing.close();
      incomplete.close();
    }
  },
});

Deno.test({
  name: "requestTicket: against a real LB, a ticket for a live server or NO_SERVERS",
  ...opts,
  async fn() {
    const db = await openTestDb(DB_KINDS[0]);
    const sql = connectStore(db.url, { max: 2 });
    const lb = await LoadBalancer.start({ sql, signer: await TicketSigner.generate(), port: 0 });
    try {
      await expect(requestTicket(lb)).rejects.toMatchObject({ code: "NO_SERVERS" });
      await sql`insert into servers (id, host, port, peer_host, peer_port, public_key)
        values ('fc-1', '127.0.0.1', 7701, '127.0.0.1', 8701, ${new Uint8Array(32)})`;
      const t = await requestTicket({ host: lb.host, port: lb.port });
      expect(t).toMatchObject({ server: "fc-1", host: "127.0.0.1", port: 7701 });
      expect(t.ticket).toMatch(/^[A-Za-z0-9_-]{16,}$/);
      expect(Object.keys(t).sort()).toEqual(["host", "port", "server", "ticket"]);
    } finally {
      await lb.close();
      await sql.end();
      await db.close();
    }
  },
});
