import { expect } from "expect";
import { FramedConnection } from "@fastchat/lib/framed_conn";
import { decodeClientFrame, encodePayload, PROTOCOL_VERSION } from "@fastchat/lib/protocol";
import { ServerConnection } from "./server_connection.ts";

/**
 * A server that completes the handshake, answers pings (unless `seen.mute`:
 * a server whose link went dark) and counts the `ack` and `ping` frames it gets.
 */
function tinyServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<FramedConnection>();
  const seen = { acks: 0, pings: 0, mute: false, onPing: () => {} };
  const serving = (async () => {
    for await (const tcp of listener) {
      const fc: FramedConnection = new FramedConnection(tcp, {
        onFrame: (p) => {
          const f = decodeClientFrame(p);
          if (f.t === "hello") {
            fc.sendPayload(
              encodePayload({ t: "welcome", v: PROTOCOL_VERSION, server: "tiny", max: 65536 }),
            );
          } else if (f.t === "ping") {
            seen.pings++;
            seen.onPing();
            if (!seen.mute) fc.sendPayload(encodePayload({ t: "pong", rid: f.rid }));
          } else if (f.t === "ack") seen.acks++;
        },
        onClose: () => conns.delete(fc),
      });
      conns.add(fc);
      fc.start();
    }
  })();
  return {
    port: listener.addr.port,
    seen,
    async close() {
      listener.close();
      for (const c of conns) c.close();
      await serving;
    },
  };
}

Deno.test("ServerConnection: frames past a full outbound queue are dropped, said once on stderr", async () => {
  const server = tinyServer();
  const logged: string[] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => logged.push(args.join(" "));
  const conn = await ServerConnection.connect({
    host: "127.0.0.1",
    port: server.port,
    onPush: () => {},
    maxQueueBytes: 256,
  });
  try {
    const results = Array.from(
      { length: 50 },
      () => conn.send({ t: "ack", items: [["alice", "msg0000001"]] }),
    );
    expect(results.filter((r) => !r).length).toBeGreaterThan(0); // some did not fit
    expect(logged).toHaveLength(1); // said once, not once per frame
    expect(logged[0]).toContain(`127.0.0.1:${server.port}`);
    expect(conn.closed).toBe(false); // the connection stays up
    await conn.writable(); // the queue drains
    await conn.request({ t: "ping" }); // and the connection works on
    expect(server.seen.acks).toBe(results.filter((r) => r).length);
  } finally {
    console.error = error;
    conn.close();
    await conn.closedPromise;
    await server.close();
  }
});

Deno.test("ServerConnection: a quiet server is pinged; one that answers stays connected", async () => {
  const server = tinyServer();
  const { promise: pinged, resolve } = Promise.withResolvers<void>();
  server.seen.onPing = () => server.seen.pings === 6 && resolve();
  let closed = false;
  const conn = await ServerConnection.connect({
    host: "127.0.0.1",
    port: server.port,
    onPush: () => {},
    onClose: () => closed = true,
    pingMs: 5,
  });
  try {
    await pinged; // more pings than the three quiet intervals that mean "dead"
    expect(closed).toBe(false);
  } finally {
    conn.close();
    await conn.closedPromise;
    await server.close();
  }
});

Deno.test("ServerConnection: a server that stops answering is closed as a lost link (TIMEOUT)", async () => {
  const server = tinyServer();
  server.seen.mute = true;
  const { promise: closed, resolve } = Promise.withResolvers<string | undefined>();
  const conn = await ServerConnection.connect({
    host: "127.0.0.1",
    port: server.port,
    onPush: () => {},
    onClose: (err) => resolve(err?.code),
    pingMs: 10,
  });
  try {
    expect(await closed).toBe("TIMEOUT");
    expect(server.seen.pings).toBeGreaterThan(0);
    expect(conn.closed).toBe(true);
  } finally {
    conn.close();
    await server.close();
  }
});
