import { expect } from "expect";
import type { ClientEvent } from "@fastchat/client/chat_client";
import { withCluster } from "@fastchat/testing/cluster_run";
import { waitUntil } from "@fastchat/lib/wait_until";
import { WireChatClient } from "./wire_chat_client.ts";

Deno.test({
  name: "wire client: register, log in again, send both ways; confirmed, receipted, acked once",
  // Real processes: database, two servers, LB.
  fn: async (t) => {
    await withCluster(t, "pglite", { servers: 2 }, async (cluster) => {
      const lb = { host: "127.0.0.1", port: cluster.lb.port };
      const events = new Map<string, ClientEvent[]>();
      const client = (who: string) => {
        events.set(who, []);
        return new WireChatClient({
          lb,
          payloadBytes: 100,
          onEvent: (e) => events.get(who)!.push(e),
        });
      };
      const of = (who: string, kind: ClientEvent["event"]) =>
        events.get(who)!.filter((e) => e.event === kind);

      const a0 = client("a0");
      await a0.register("wire-a", "password of wire-a");
      await a0.close();
      await expect(client("dup").register("wire-a", "x")).rejects.toMatchObject({
        code: "USER_EXISTS",
      });
      await expect(client("bad").login("wire-a", "wrong password")).rejects.toMatchObject({
        code: "INVALID_CREDENTIALS",
      });
      const a = client("a"), b = client("b");
      await a.login("wire-a", "password of wire-a"); // the authenticator is the password's
      await b.register("wire-b", "password of wire-b");
      expect(of("a", "ready")).toHaveLength(1);

      const ids: string[] = [];
      for (let i = 0; i < 50; i++) {
        ids.push(a.trySend("wire-b", "ignored") ?? await a.send("wire-b", "x"));
      }
      ids.push(await b.send("wire-a", "back"));
      expect(new Set(ids).size).toBe(51);
      await waitUntil(
        () => of("a", "delivered").length === 50 && of("b", "delivered").length === 1,
        10_000,
        "every receipt",
      );
      // Each send is confirmed once ("sent", or by its receipt first), and received once.
      expect(of("a", "sent").map((e) => (e as { id: string }).id).sort()).toEqual(
        ids.slice(0, 50).sort(),
      );
      const got = of("b", "message") as Extract<ClientEvent, { event: "message" }>[];
      expect(got.map((m) => m.id).sort()).toEqual(ids.slice(0, 50).sort());
      expect(got[0]).toMatchObject({ from: "wire-a", to: "wire-b" });
      expect(got[0].text.length).toBe(100);
      await a.close();
      await b.close();
      // Acknowledged: nothing is waiting for wire-b at the next login.
      const b2 = client("b2");
      await b2.login("wire-b", "password of wire-b");
      await b2.close();
      expect(of("b2", "message")).toHaveLength(0);
      expect(of("a", "error").concat(of("b", "error"))).toEqual([]);
    });
  },
});
