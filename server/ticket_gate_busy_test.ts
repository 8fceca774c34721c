/**
 * A server whose ticket replay cache is full refuses new tickets with
 * `RATE_LIMITED` and tells the client when to retry: the hint the verifier
 * raises (`details.retryMs`) crosses the session and the wire (`retry`) and
 * reaches the client as `details.retryMs` again.
 */
import { expect } from "expect";
import { connectStore } from "@fastchat/db";
import { TicketSigner } from "@fastchat/lb/ticket_signer";
import { ConnectionCaps } from "@fastchat/lib/connection_caps";
import { FastChatError } from "@fastchat/lib/errors";
import { nullLogger } from "@fastchat/lib/logger";
import { ServerConnection } from "@fastchat/client/server_connection";
import { ClientSession, type SessionContext } from "./client_session.ts";
import { KeyedTokenBuckets } from "./rate_limiter.ts";
import { TicketGate } from "./ticket_gate.ts";
import { openTestDb } from "@fastchat/testing";

Deno.test("tickets: a full replay cache reaches the client as RATE_LIMITED with retryMs", async () => {
  const db = await openTestDb("pglite");
  const sql = connectStore(db.url, { max: 1 });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { hostname: host, port } = listener.addr;
  const serverId = "fc-busy";
  try {
    const lb = await TicketSigner.generate();
    await sql`insert into lb_keys (key_id, public_key) values (${lb.keyId}, ${await lb
      .publicKey()})`;
    const tickets = new TicketGate(sql, serverId, true, { maxReplayEntries: 1 });
    await tickets.check("login", await lb.issue({ serverId, host, port })); // the one live nonce
    // Only what the pre-login path of a session uses; login never gets past the ticket.
    const ctx = {
      serverId,
      tickets,
      limits: {
        maxFrame: 1 << 20,
        maxQueueBytes: 1 << 20,
        writeStallMs: 10_000,
        authTimeoutMs: 10_000,
        maxErrorsBeforeAuth: 3,
        maxErrorsAfterAuth: 20,
        maxPreAuthConnections: 4,
        maxPreAuthPerAddress: 4,
      },
      preAuth: new ConnectionCaps({ maxTotal: 4, maxPerAddress: 4 }),
      anonLimiter: new KeyedTokenBuckets(5, 20),
      logger: nullLogger,
      sessions: new Set(),
    } as Partial<SessionContext> as SessionContext;
    const served = listener.accept().then((conn) => new ClientSession(conn, ctx).run());
    const client = await ServerConnection.connect({ host, port, onPush: () => {} });
    const err = await client.request({
      t: "login",
      user: "alice",
      auth: new Uint8Array(32),
      ticket: await lb.issue({ serverId, host, port }),
    }).then(() => undefined, (e: unknown) => e);
    client.close();
    await served;
    expect(err).toBeInstanceOf(FastChatError);
    expect((err as FastChatError).code).toBe("RATE_LIMITED");
    const retryMs = (err as FastChatError).details?.retryMs;
    expect(retryMs).toBeGreaterThan(0);
    // at most the live ticket's lifetime (30 s) plus the clock skew (2 s)
    expect(retryMs).toBeLessThanOrEqual(32_000);
  } finally {
    listener.close();
    await sql.end();
    await db.close();
  }
});
