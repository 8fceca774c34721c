/**
 * Resync after a peer link comes up: it waits until the other server has
 * written what it accepted while the link was down. Two in-process chat
 * servers over real PostgreSQL whose peer links run through TCP relays the
 * test can cut (every connection closed, new ones refused) and restore; a
 * table lock holds the other server's write (PGlite serves one connection at
 * a time, so it cannot); raw protocol clients.
 */
import { expect } from "expect";
import { waitUntil } from "@fastchat/lib/wait_until";
import { connectStore } from "@fastchat/db/connect";
import {
  closePeersAndServers,
  connectRegistered,
  freePorts,
  openTestDb,
  type RawPeer,
  startLinkedServers,
  TEST_PG_URL,
} from "@fastchat/testing";
import { holdTableWrites, type TableHold } from "@fastchat/testing/table_lock";
import type { ChatServer } from "./chat_server.ts";

/** A TCP relay to `127.0.0.1:target` whose connections can be cut. */
class CuttableRelay {
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #conns = new Set<Deno.Conn>();
  #cut = false;

  constructor(readonly target: number) {
    this.#accept();
  }

  get port(): number {
    return this.#listener.addr.port;
  }

  /** Closes every relayed connection and refuses new ones until {@link restore}. */
  cut(): void {
    this.#cut = true;
    for (const c of this.#conns) closeQuietly(c);
    this.#conns.clear();
  }

  restore(): void {
    this.#cut = false;
  }

  close(): void {
    this.cut();
    this.#listener.close();
  }

  async #accept(): Promise<void> {
    try {
      for await (const c of this.#listener) {
        if (this.#cut) {
          closeQuietly(c);
          continue;
        }
        Deno.connect({ hostname: "127.0.0.1", port: this.target }).then((t) => {
          if (this.#cut) return (closeQuietly(c), closeQuietly(t));
          this.#conns.add(c).add(t);
          const end = () => (closeQuietly(c), closeQuietly(t));
          c.readable.pipeTo(t.writable).catch(() => {}).finally(end);
          t.readable.pipeTo(c.writable).catch(() => {}).finally(end);
        }, () => closeQuietly(c));
      }
    } catch {
      // listener closed
    }
  }
}

function closeQuietly(c: Deno.Conn): void {
  try {
    c.close();
  } catch {
    // already closed
  }
}

Deno.test({
  name:
    "link-up resync (postgres): a message the other server wrote late reaches the online recipient",
  ignore: !TEST_PG_URL,
  async fn() {
    const db = await openTestDb("postgres");
    const pools = [0, 1, 2].map(() => connectStore(db.url, { max: 4 }));
    const servers: ChatServer[] = [];
    const relays: CuttableRelay[] = [];
    const peers: RawPeer[] = [];
    let hold: TableHold | undefined;
    try {
      for (let i = 0; i < 2; i++) relays.push(new CuttableRelay(freePorts()));
      await startLinkedServers(pools.slice(0, 2), servers, (i) => ({
        peerPort: relays[i].target,
        advertisePeer: { host: "127.0.0.1", port: relays[i].port },
      }));
      const [a, b] = servers;
      const linked = () => a.linkedPeers.length === 1 && b.linkedPeers.length === 1;
      const { peer: alice } = await connectRegistered(a.host, a.port, "alice");
      peers.push(alice);
      const { peer: bob } = await connectRegistered(b.host, b.port, "bob");
      peers.push(bob);

      // The link drops: a stores what alice sends bob.
      for (const r of relays) r.cut();
      await waitUntil(
        () => a.linkedPeers.length === 0 && b.linkedPeers.length === 0,
        15_000,
        "the link to drop",
      );
      const send = (id: string) =>
        alice.send({
          t: "send",
          id,
          to: "bob",
          kind: "dm",
          ts: 1000,
          body: new TextEncoder().encode("ct-" + id),
        });
      await send("stored0001");
      await waitUntil(
        async () => (await pools[2]`select 1 from messages where id = 'stored0001'`).length === 1,
        15_000,
        "a to store the first message",
      );

      // a accepts the second one, but its write is held up.
      hold = await holdTableWrites(pools[2], "messages");
      await send("held000001");
      await waitUntil(() => a.router.stats.accepted === 2, 15_000, "a to accept the message");

      // The link comes back: b resyncs bob from what is stored (a did not confirm its flush).
      for (const r of relays) r.restore();
      await waitUntil(linked, 15_000, "the two servers to link again");
      await bob.waitFrame((f) => f.t === "msg" && f.id === "stored0001");
      expect(bob.frames.some((f) => f.t === "msg" && f.id === "held000001")).toBe(false);

      // a's write goes through: bob, still online, gets the message without logging in again.
      await hold.release();
      const msg = await bob.waitFrame((f) => f.t === "msg" && f.id === "held000001");
      expect(msg).toMatchObject({ from: "alice", to: "bob" });
      await bob.send({ t: "ack", items: [["alice", "held000001"]] });
      await alice.waitFrame((f) =>
        f.t === "delivered" && f.items.some(([, id]) => id === "held000001")
      );
    } finally {
      await hold?.release();
      await closePeersAndServers(peers, servers);
      for (const r of relays) r.close();
      for (const sql of pools) await sql.end();
      await db.close();
    }
  },
});
