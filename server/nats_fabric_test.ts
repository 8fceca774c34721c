/**
 * The NATS fabric's membership against the real NATS server (127.0.0.1:4222
 * on every development and CI machine): servers finding, announcing to and
 * forgetting each other, two or three fabric instances in one process, each
 * in a fresh namespace, plus a raw NATS client playing a vanishing server.
 * Traffic between them: server/nats_fabric_traffic_test.ts.
 */
import { expect } from "expect";
import { connect } from "@nats-io/transport-node";
import { waitUntil } from "@fastchat/lib/wait_until";
import { assertCode, NATS_TEST_URL, testNamespace } from "@fastchat/testing";
import { ignore, msg, name, type Node, node, withPair } from "@fastchat/testing/nats_fabric_nodes";
import { NatsFabric } from "./nats_fabric.ts";
import { encodePeerFrame } from "./peer_protocol.ts";

Deno.test({
  name: name("servers find each other, exchange snapshots and resync when a link comes up"),
  ignore,
  fn: () =>
    withPair(async (a, b, ns) => {
      expect(a.sink.resyncs).toContain("link to srv-b up");
      expect(b.sink.resyncs).toContain("link to srv-a up");
      // A third server joins while users are online on it and on srv-a.
      a.sink.users = ["alice"];
      await a.fabric.announce(["alice"], true);
      const c = await node(ns, "srv-c", {}, ["carol"]);
      try {
        await waitUntil(
          () =>
            [...c.fabric.serversOf("alice")].length === 1 &&
            [...a.fabric.serversOf("carol")][0] !== undefined &&
            c.fabric.linkedPeers.length === 2, // srv-b's hello may come after srv-a's snapshot
          5000,
          "srv-a's and srv-c's snapshots, and srv-c linked to both",
        );
        expect([...c.fabric.serversOf("alice")]).toEqual(["srv-a"]);
        expect([...a.fabric.serversOf("carol")]).toEqual(["srv-c"]);
        expect(c.fabric.linkedPeers.sort()).toEqual(["srv-a", "srv-b"]);
      } finally {
        await c.fabric.close();
      }
    }),
});

Deno.test({
  name: name("announcing online waits until the others have flushed their writes"),
  ignore,
  fn: () =>
    withPair(async (a, b) => {
      let release!: () => void;
      b.sink.gate = new Promise((r) => release = r);
      let announced = false;
      // As the router does: alice is local before she is announced, so the snapshot
      // srv-a may still owe srv-b from the link-up (it answers srv-b's hello) has her too.
      a.sink.users = ["alice"];
      const announcing = a.fabric.announce(["alice"], true).then((ok) => {
        announced = true;
        return ok;
      });
      await waitUntil(() => b.sink.flushes === 1, 5000, "srv-b to start flushing");
      // srv-b routes alice's messages to srv-a from now on, but srv-a waits for its flush.
      // (Its warnings are shown too, should a link have gone down meanwhile.)
      expect({ servers: [...b.fabric.serversOf("alice")], warnings: b.log.seen }).toEqual({
        servers: ["srv-a"],
        warnings: [],
      });
      expect(announced).toBe(false);
      release();
      expect(await announcing).toBe(true); // confirmed (false would have timed out)
      expect(b.sink.flushDone).toBe(1);
      a.sink.users = [];
      await a.fabric.announce(["alice"], false); // offline: nothing to wait for
      await waitUntil(() => [...b.fabric.serversOf("alice")].length === 0, 5000, "alice offline");
    }),
});

Deno.test({
  name: name("an announcement not confirmed in time resolves false (the router retries it)"),
  ignore,
  async fn() {
    const ns = testNamespace();
    const a = await node(ns, "srv-a", { announceTimeoutMs: 50 });
    const b = await node(ns, "srv-b");
    let release!: () => void;
    b.sink.gate = new Promise((r) => release = r);
    try {
      await waitUntil(
        () => a.fabric.linkedPeers.includes("srv-b") && b.fabric.linkedPeers.includes("srv-a"),
        5000,
        "srv-a and srv-b to hear each other",
      );
      expect(await a.fabric.announce(["alice"], true)).toBe(false); // srv-b's flush is held
      release();
      await waitUntil(() => b.sink.flushDone === 1, 5000, "srv-b's flush to end");
      expect(await a.fabric.announce(["alice"], true)).toBe(true);
    } finally {
      release();
      await a.fabric.close();
      await b.fabric.close();
    }
  },
});

Deno.test({
  name: name("a link coming up resyncs after a flush; an empty announcement waits for it"),
  ignore,
  fn: () =>
    withPair(async (a, b) => {
      // The router resyncs a link that came up only once the peers flushed (server/message_router.ts).
      expect(a.sink.afterFlush).toContain("link to srv-b up");
      expect(b.sink.afterFlush).toContain("link to srv-a up");
      let release!: () => void;
      b.sink.gate = new Promise((r) => release = r);
      const before = b.sink.flushes;
      let confirmed: boolean | undefined;
      const asking = a.fabric.announce([], true).then((ok) => confirmed = ok);
      await waitUntil(() => b.sink.flushes === before + 1, 5000, "srv-b to start flushing");
      expect(confirmed).toBe(undefined); // waits for srv-b's flush
      release();
      await asking;
      expect(confirmed).toBe(true);
      expect(b.sink.flushDone).toBe(before + 1);
    }),
});

Deno.test({
  name: name("a server that says bye or is killed is forgotten at once; a stalled one when silent"),
  ignore,
  async fn() {
    const ns = testNamespace();
    const a = await node(ns, "srv-a");
    const b = await node(ns, "srv-b", {}, ["bob"]);
    try {
      await waitUntil(() => [...a.fabric.serversOf("bob")].length === 1, 5000, "bob on srv-b");
      await b.fabric.close();
      await waitUntil(() => a.sink.resyncs.some((r) => r.includes("srv-b said bye")), 5000, "bye");
      expect([...a.fabric.serversOf("bob")]).toEqual([]);
      expect(a.fabric.linkedPeers).toEqual([]);
      // A server killed with -9: its heartbeats stop and its subscriptions go with its
      // connection, so the probe of its late heartbeat finds nobody: gone before the liveness time.
      const ghost = await connect({ servers: [NATS_TEST_URL] });
      ghost.publish(`fastchat.${ns}.hb.srv-ghost`, new Uint8Array(8));
      await waitUntil(() => a.fabric.linkedPeers.includes("srv-ghost"), 5000, "the ghost");
      await ghost.close();
      await waitUntil(
        () => a.sink.resyncs.includes("peer srv-ghost gone from NATS"),
        5000,
        "the ghost to be forgotten",
      );
      // A server still connected but stalled (it neither beats nor answers probes): silent.
      const stuck = await connect({ servers: [NATS_TEST_URL] });
      try {
        stuck.subscribe(`fastchat.${ns}.ping.srv-stuck`, { callback: () => {} });
        await stuck.flush();
        stuck.publish(`fastchat.${ns}.hb.srv-stuck`, new Uint8Array(8));
        await waitUntil(() => a.fabric.linkedPeers.includes("srv-stuck"), 5000, "the stuck one");
        await waitUntil(
          () => a.sink.resyncs.includes("peer srv-stuck silent"),
          5000,
          "the stuck one to be forgotten",
        );
      } finally {
        await stuck.close();
      }
      expect(a.fabric.linkedPeers).toEqual([]);
    } finally {
      await a.fabric.close();
      await b.fabric.close();
    }
  },
});

Deno.test({
  name: name("a restarted server (new incarnation) is learned again: snapshot and resync"),
  ignore,
  async fn() {
    const ns = testNamespace();
    const a = await node(ns, "srv-a");
    // A server killed with -9 and restarted at once: no bye, a new incarnation.
    const ghost = await connect({ servers: [NATS_TEST_URL] });
    let users = ["g1"];
    ghost.subscribe(`fastchat.${ns}.hello.srv-a.srv-ghost`, {
      callback: () =>
        ghost.publish(
          `fastchat.${ns}.srv.srv-a.srv-ghost`,
          encodePeerFrame({ t: "snapshot", users }),
        ),
    });
    try {
      await ghost.flush();
      ghost.publish(`fastchat.${ns}.hb.srv-ghost`, new Uint8Array(8).fill(1));
      await waitUntil(() => [...a.fabric.serversOf("g1")].length === 1, 5000, "g1's snapshot");
      const before = a.sink.resyncs.length;
      users = ["g2"];
      ghost.publish(`fastchat.${ns}.hb.srv-ghost`, new Uint8Array(8).fill(2));
      await waitUntil(() => [...a.fabric.serversOf("g2")].length === 1, 5000, "g2's snapshot");
      expect([...a.fabric.serversOf("g1")]).toEqual([]);
      expect(a.sink.resyncs.slice(before)).toEqual(["link to srv-ghost up"]);
    } finally {
      await ghost.close();
      await a.fabric.close();
    }
  },
});

/** A TCP relay to the test NATS whose connections can be cut (NATS itself is shared). */
class CuttableRelay {
  readonly listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #conns = new Set<Deno.Conn>();
  readonly #pumps: Promise<void>[] = [];
  readonly #loop: Promise<void>;
  constructor() {
    const target = new URL(NATS_TEST_URL);
    this.#loop = (async () => {
      for await (const down of this.listener) {
        const up = await Deno.connect({ hostname: target.hostname, port: Number(target.port) });
        this.#conns.add(down).add(up);
        this.#pumps.push(this.#pump(down, up), this.#pump(up, down));
      }
    })();
  }
  get url() {
    return `nats://127.0.0.1:${(this.listener.addr as Deno.NetAddr).port}`;
  }
  async #pump(from: Deno.Conn, to: Deno.Conn) {
    try {
      await from.readable.pipeTo(to.writable, { preventClose: true });
    } catch {
      // cut: the other pump closes the pair
    }
    this.#close(from, to);
  }
  #close(...conns: Deno.Conn[]) {
    for (const c of conns) {
      if (!this.#conns.delete(c)) continue;
      try {
        c.close();
      } catch {
        // already closed by its pump
      }
    }
  }
  /** Drops every relayed connection (as a network failure would). */
  cut() {
    this.#close(...this.#conns);
  }
  async close() {
    this.listener.close();
    this.cut();
    await this.#loop.catch(() => {});
    await Promise.all(this.#pumps);
  }
}

Deno.test({
  name: name("losing NATS forgets everyone; after the reconnect snapshots and resyncs again"),
  ignore,
  async fn() {
    const ns = testNamespace();
    const relay = new CuttableRelay();
    const a = await node(ns, "srv-a", { servers: [relay.url] }, ["alice"]);
    const b = await node(ns, "srv-b", {}, ["bob"]);
    try {
      await waitUntil(
        () =>
          [...a.fabric.serversOf("bob")].length === 1 &&
          [...b.fabric.serversOf("alice")].length === 1,
        5000,
        "the first snapshots",
      );
      const ups = (n: Node, peer: string) =>
        n.sink.resyncs.filter((r) => r === `link to ${peer} up`).length;
      expect([ups(a, "srv-b"), ups(b, "srv-a")]).toEqual([1, 1]);
      a.sink.users = ["alice", "anna"]; // anna logs in while srv-a is cut off
      relay.cut();
      await waitUntil(() => a.log.seen.some((w) => w.includes("NATS disconnected")), 5000, "down");
      // srv-a comes back with a new incarnation: both sides learn each other again.
      await waitUntil(
        () =>
          ups(a, "srv-b") === 2 && ups(b, "srv-a") === 2 &&
          [...b.fabric.serversOf("anna")].length === 1 &&
          [...a.fabric.serversOf("bob")].length === 1,
        10_000,
        () => `relinked (${a.sink.resyncs} / ${b.sink.resyncs})`,
      );
      expect([...a.fabric.serversOf("bob")]).toEqual(["srv-b"]);
      expect([...b.fabric.serversOf("anna")]).toEqual(["srv-a"]);
      b.fabric.forward("srv-a", msg("m-00000001", "bob", "anna"));
      await waitUntil(() => a.sink.forwarded.length === 1, 5000, "a forward after the reconnect");
    } finally {
      await a.fabric.close();
      await b.fabric.close();
      await relay.close();
    }
  },
});

Deno.test({
  name: name("bad configuration and an unreachable NATS are clear errors"),
  ignore,
  async fn() {
    await assertCode(
      NatsFabric.connect({ id: "srv.1", servers: [NATS_TEST_URL], namespace: testNamespace() }),
      "INVALID_CONFIG",
    );
    await assertCode(
      NatsFabric.connect({ id: "srv-1", servers: [NATS_TEST_URL], namespace: "a b" }),
      "INVALID_CONFIG",
    );
    // A port nothing listens on.
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    const err = await assertCode(
      NatsFabric.connect({
        id: "srv-1",
        servers: [`nats://127.0.0.1:${port}`],
        namespace: testNamespace(),
      }),
      "CONNECT_FAILED",
    );
    expect(err.message).toContain(`127.0.0.1:${port}`);
  },
});
