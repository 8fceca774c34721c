import { expect } from "expect";
import { FastChatError } from "@fastchat/lib/errors";
import { encodeFrame } from "@fastchat/lib/frame";
import { FramedConnection } from "@fastchat/lib/framed_conn";
import {
  decodeClientFrame,
  encodePayload,
  PROTOCOL_VERSION,
  type ServerFrame,
} from "@fastchat/lib/protocol";
import { LoadBalancer } from "@fastchat/lb/lb_server";
import { TicketSigner } from "@fastchat/lb/ticket_signer";
import { connectStore } from "@fastchat/db/connect";
import { DB_KINDS, openTestDb } from "@fastchat/testing";
import { requestTicket, viaLoadBalancer } from "./lb_client.ts";

const welcome: ServerFrame = { t: "welcome", v: 1, server: "lb-test", max: 4096 };

/** A TCP listener that answers the hello with `welcome` and the next request with `reply`. */
function fakeLb(reply: ServerFrame | null): { port: number; close: () => Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const serving = (async () => {
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
    } catch { /* closed by close() below, mid-read: the fake's life ends */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: async () => {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed already by the client's side */ }
      }
      await serving;
    },
  };
}

Deno.test({
  name: "requestTicket: CONNECT_FAILED when no LB listens",
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
  async fn() {
    const lb = fakeLb(null);
    try {
      const err = await requestTicket({ host: "127.0.0.1", port: lb.port }, { timeoutMs: 200 })
        .catch((e) => e);
      expect(err.code).toBe("TIMEOUT");
    } finally {
      await lb.close();
    }
  },
});

Deno.test({
  name: "requestTicket: the LB's error code is passed on; an incomplete reply is BAD_FRAME",
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
      await refusing.close();
      await incomplete.close();
    }
  },
});

Deno.test({
  name: "requestTicket: against a real LB, a ticket for a live server or NO_SERVERS",
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
      expect(t.tls).toBe(false);
      expect(Object.keys(t).sort()).toEqual(["host", "port", "server", "ticket", "tls"]);
    } finally {
      await lb.close();
      await sql.end();
      await db.close();
    }
  },
});

/** A load balancer that hands out servers s1, s2, ... in turn and records each `avoid` list. */
function roundRobinLb() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const avoided: (string[] | undefined)[] = [];
  const conns = new Set<FramedConnection>();
  const serving = (async () => {
    for await (const tcp of listener) {
      const fc: FramedConnection = new FramedConnection(tcp, {
        onFrame: (p) => {
          const f = decodeClientFrame(p);
          if (f.t === "hello") {
            fc.sendPayload(
              encodePayload({ t: "welcome", v: PROTOCOL_VERSION, server: "lb", max: 4096 }),
            );
          } else if (f.t === "ticket") {
            avoided.push(f.avoid);
            const n = avoided.length;
            fc.sendPayload(encodePayload({
              t: "ok",
              rid: f.rid,
              ticket: `ticket-${n}`.padEnd(16, "_"),
              server: `s${n}`,
              host: "127.0.0.1",
              port: 7000 + n,
              ...(n === 2 ? { tls: true } : {}), // s2 serves TLS
            }));
          }
        },
        onClose: () => conns.delete(fc),
      });
      conns.add(fc);
      fc.start();
    }
  })();
  return {
    port: listener.addr.port,
    avoided,
    async close() {
      listener.close();
      for (const c of conns) c.close();
      await serving;
    },
  };
}

Deno.test("viaLoadBalancer: each (re)connect gets a ticket and the server's TLS flag, avoiding the servers just used", async () => {
  const lb = roundRobinLb();
  try {
    const next = viaLoadBalancer({ host: "127.0.0.1", port: lb.port });
    expect(await next()).toEqual({
      host: "127.0.0.1",
      port: 7001,
      ticket: "ticket-1".padEnd(16, "_"),
      tls: false,
    });
    expect(await next()).toEqual({
      host: "127.0.0.1",
      port: 7002,
      ticket: "ticket-2".padEnd(16, "_"),
      tls: { caCerts: undefined },
    });
    for (let i = 0; i < 4; i++) await next();
    // The first ask avoids nothing; later ones the last four servers (all within 10 s).
    expect(lb.avoided).toEqual([
      undefined,
      ["s1"],
      ["s1", "s2"],
      ["s1", "s2", "s3"],
      ["s1", "s2", "s3", "s4"],
      ["s2", "s3", "s4", "s5"],
    ]);
  } finally {
    await lb.close();
  }
});
