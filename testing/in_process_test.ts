import { expect } from "expect";
import { openTestDb } from "./test_db.ts";
import { withChatServer, withLoadBalancer } from "./in_process.ts";

const refused = async (port: number): Promise<boolean> => {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return false;
  } catch (e) {
    return e instanceof Deno.errors.ConnectionRefused;
  }
};

Deno.test("withChatServer and withLoadBalancer listen during fn and close after it, even when it throws", async () => {
  const db = await openTestDb("pglite");
  try {
    let port = 0;
    await expect(withChatServer(db, {}, async (server) => {
      port = server.port;
      expect(await refused(port)).toBe(false);
      throw new Error("test failed inside");
    })).rejects.toThrow("test failed inside");
    expect(port).toBeGreaterThan(0);
    expect(await refused(port)).toBe(true);

    await withLoadBalancer(db.url, {}, async (lb, sql) => {
      port = lb.port;
      expect(await refused(port)).toBe(false);
      const [{ n }] = await sql`select count(*)::int as n from servers`;
      expect(n).toBe(0);
    });
    expect(await refused(port)).toBe(true);
  } finally {
    await db.close();
  }
});
