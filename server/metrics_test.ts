/** A server process exposes Prometheus metrics that track real traffic. */
import { expect } from "expect";
import { ChatClient, type ClientEvent } from "@fastchat/client";
import { DB_KINDS, EventLog, openTestDb, startServerProcess } from "@fastchat/testing";

Deno.test({
  name: `metrics (${DB_KINDS[0]}): --metrics-port serves counters that follow traffic`,
  async fn() {
    const db = await openTestDb(DB_KINDS[0]);
    const server = await startServerProcess(db.url, { args: ["--metrics-port", "0"] });
    const [, url] = await server.proc.waitForLine(/metrics on (\S+)/);
    const scrape = async () => {
      const text = await (await fetch(url)).text();
      const value = (name: string) =>
        Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, "m").exec(text)?.[1]);
      return value;
    };
    const home = await Deno.makeTempDir();
    const log = new EventLog<ClientEvent>();
    const mk = () =>
      new ChatClient({
        server: { host: server.host, port: server.port },
        homeRoot: home,
        kdfIterations: 100_000,
        onEvent: log.push,
      });
    const a = mk(), b = mk();
    try {
      expect((await scrape())("fastchat_connections")).toBe(0);
      await a.register("alice", "alice-password-1");
      await b.register("bob", "bob-password-1");
      for (let i = 0; i < 10; i++) await a.send("bob", `m${i}`);
      await log.waitForCount((e) => e.event === "delivered", 10);
      const v = await scrape();
      expect(v("fastchat_connections")).toBe(2);
      expect(v("fastchat_online_users")).toBe(2);
      expect(v("fastchat_messages_in_total")).toBe(10);
      expect(v("fastchat_messages_out_total")).toBe(10);
      expect(v("process_resident_memory_bytes")).toBeGreaterThan(v("fastchat_heap_used_bytes"));
      expect(v("fastchat_heap_total_bytes")).toBeGreaterThanOrEqual(v("fastchat_heap_used_bytes"));
      expect(v("fastchat_external_bytes")).toBeGreaterThan(0);
      // An offline recipient's message must be stored before it is confirmed.
      await b.close();
      const id = await a.send("bob", "stored");
      await log.waitFor((e) => e.event === "sent" && e.id === id);
      const after = await scrape();
      expect(after("fastchat_messages_stored_total")).toBeGreaterThanOrEqual(1);
      expect(after("fastchat_store_batches_total")).toBeGreaterThanOrEqual(1);
      expect(after("fastchat_connections")).toBe(1);
    } finally {
      await a.close();
      await b.close();
      await server.proc.stop();
      await db.close();
    }
  },
});
