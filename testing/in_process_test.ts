import { expect } from "expect";
import { openTestDb } from "./test_db.ts";
import { withChatServer, withLoadBalancer } from "./in_process.ts";

/**
 * Reads `conn` until the peer closes it and resolves true, or false when no
 * close comes within `ms` (a guard against hanging, not a timing assert).
 * A connection the test itself holds proves that this very listener's
 * server closed, where probing the freed port again could reach another
 * test process that has since been given the same ephemeral port.
 */
const closedByPeer = async (conn: Deno.Conn, ms = 10_000): Promise<boolean> => {
  const buf = new Uint8Array(4096);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  const eof = (async () => {
    try {
      while (await conn.read(buf) !== null) { /* frames telling why */ }
    } catch (e) {
      if (!(e instanceof Deno.errors.ConnectionReset)) throw e;
    }
    return true as const;
  })();
  try {
    return await Promise.race([eof, guard]);
  } finally {
    clearTimeout(timer);
    conn.close();
  }
};

Deno.test("withChatServer and withLoadBalancer listen during fn and close after it, even when it throws", async () => {
  const db = await openTestDb("pglite");
  try {
    let held: Deno.Conn | undefined;
    await expect(withChatServer(db, {}, async (server) => {
      held = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      throw new Error("test failed inside");
    })).rejects.toThrow("test failed inside");
    expect(await closedByPeer(held!)).toBe(true);

    held = undefined;
    await withLoadBalancer(db.url, {}, async (lb, sql) => {
      held = await Deno.connect({ hostname: "127.0.0.1", port: lb.port });
      const [{ n }] = await sql`select count(*)::int as n from servers`;
      expect(n).toBe(0);
    });
    expect(await closedByPeer(held!)).toBe(true);
  } finally {
    await db.close();
  }
});
