/**
 * The NATS fabric against the real NATS server (127.0.0.1:4222 on every
 * development and CI machine): two or three fabric instances in one
 * process, each in a fresh namespace, plus a raw NATS client playing a
 * hostile or vanishing server.
 */
import { expect } from "expect";
import { connect } from "@nats-io/transport-node";
import { waitUntil } from "@fastchat/lib/wait_until";
import type { Logger } from "@fastchat/lib/logger";
import { assertCode, NATS_TEST_URL, natsTestsIgnored, testNamespace } from "@fastchat/testing";
import type { FabricSink, RoutedAck, RoutedReceipt } from "./fabric.ts";
import { NatsFabric, type NatsFabricOptions } from "./nats_fabric.ts";
import {
  encodePeerFrame,
  type ForwardedGroupMessage,
  type ForwardedMessage,
} from "./peer_protocol.ts";

const ignore = await natsTestsIgnored();
const name = (what: string) =>
  `NatsFabric: ${what}${ignore ? " (needs NATS at 127.0.0.1:4222)" : ""}`;

/** A router stand-in recording what the fabric hands it. */
class RecordingSink implements FabricSink {
  users: string[] = [];
  forwarded: [string, ForwardedMessage[]][] = [];
  groupForwarded: [string, ForwardedGroupMessage[]][] = [];
  acks: RoutedAck[] = [];
  receipts: [RoutedReceipt[], boolean][] = [];
  resyncs: string[] = [];
  /** Reasons of the resyncs asked for after the peers' flush (a link came up). */
  afterFlush: string[] = [];
  flushes = 0;
  flushDone = 0;
  /** Holds `flush` open until released (to see that announce waits for it). */
  gate: Promise<void> | null = null;
  deliverForwarded(origin: string, msgs: ForwardedMessage[]) {
    this.forwarded.push([origin, msgs]);
  }
  deliverGroupForwarded(origin: string, msgs: ForwardedGroupMessage[]) {
    this.groupForwarded.push([origin, msgs]);
  }
  ackRouted(items: RoutedAck[]) {
    this.acks.push(...items);
  }
  receiptsRouted(items: RoutedReceipt[], stored: boolean) {
    this.receipts.push([items, stored]);
  }
  async flush() {
    this.flushes++;
    await this.gate;
    this.flushDone++;
  }
  localUsers() {
    return this.users;
  }
  resync(reason: string, afterFlush?: boolean) {
    this.resyncs.push(reason);
    if (afterFlush) this.afterFlush.push(reason);
  }
}

/** A logger keeping warnings, to see refusals. */
function warnings(): Logger & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    debug() {},
    info() {},
    warn: (event, fields) => void seen.push(`${event} ${JSON.stringify(fields)}`),
    error: (event, fields) => void seen.push(`${event} ${JSON.stringify(fields)}`),
  };
}

type Node = { fabric: NatsFabric; sink: RecordingSink; log: ReturnType<typeof warnings> };

/** A fabric `id` in namespace `ns` whose router has `users` online from the start. */
async function node(
  ns: string,
  id: string,
  o: Partial<NatsFabricOptions> = {},
  users: string[] = [],
): Promise<Node> {
  const log = warnings();
  const sink = new RecordingSink();
  sink.users = users;
  const fabric = await NatsFabric.connect({
    id,
    servers: [NATS_TEST_URL],
    namespace: ns,
    heartbeatMs: 100,
    livenessMs: 1000,
    logger: log,
    sink,
    ...o,
  });
  return { fabric, sink, log };
}

/** Two linked fabrics `a` (srv-a) and `b` (srv-b); both closed afterwards. */
async function withPair(fn: (a: Node, b: Node, ns: string) => Promise<void>) {
  const ns = testNamespace();
  const a = await node(ns, "srv-a");
  const b = await node(ns, "srv-b");
  try {
    await waitUntil(
      () => a.fabric.linkedPeers.includes("srv-b") && b.fabric.linkedPeers.includes("srv-a"),
      5000,
      "srv-a and srv-b to hear each other",
    );
    await fn(a, b, ns);
  } finally {
    await a.fabric.close();
    await b.fabric.close();
  }
}

const msg = (id: string, from: string, to: string, size = 4): ForwardedMessage => [
  id,
  from,
  to,
  new Uint8Array(size).fill(7),
];

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
  name: name("forwards are batched per tick; acks act only on messages forwarded there"),
  ignore,
  fn: () =>
    withPair(async (a, b) => {
      a.sink.users = ["bob"];
      await a.fabric.announce(["bob"], true);
      expect([...b.fabric.serversOf("bob")]).toEqual(["srv-a"]);
      for (let i = 0; i < 3; i++) b.fabric.forward("srv-a", msg(`m-0000000${i}`, "alice", "bob"));
      await waitUntil(() => a.sink.forwarded.length > 0, 5000, "the forwards");
      expect(a.sink.forwarded).toEqual([[
        "srv-b",
        [0, 1, 2].map((i) => msg(`m-0000000${i}`, "alice", "bob")),
      ]]);
      // bob acknowledges two; a third ack names a message srv-b never forwarded to srv-a.
      a.fabric.sendAck("srv-b", ["bob", "alice", "m-00000000"]);
      a.fabric.sendAck("srv-b", ["bob", "alice", "m-00000001"]);
      a.fabric.sendAck("srv-b", ["bob", "mallory", "m-99999999"]);
      await waitUntil(
        () => b.log.seen.some((w) => w.startsWith("peer_ack_refused")),
        5000,
        "refusal",
      );
      expect(b.sink.acks).toEqual([["bob", "alice", "m-00000000"], ["bob", "alice", "m-00000001"]]);
      // Group forwards and receipts, stored or not.
      const g: ForwardedGroupMessage = ["m-00000009", "alice", "team", new Uint8Array([1]), [
        "bob",
      ]];
      b.fabric.forwardGroup("srv-a", g);
      expect(b.fabric.sendReceipt("srv-a", ["bob", "alice", "m-00000005"], false)).toBe(true);
      expect(b.fabric.sendReceipt("srv-a", ["bob", "alice", "m-00000006"], true)).toBe(true);
      expect(b.fabric.sendReceipt("srv-nowhere", ["bob", "alice", "m-00000007"], true)).toBe(false);
      await waitUntil(
        () => a.sink.receipts.length === 2 && a.sink.groupForwarded.length === 1,
        5000,
        "rcpt",
      );
      expect(a.sink.groupForwarded).toEqual([["srv-b", [g]]]);
      expect(a.sink.receipts).toEqual([
        [[["bob", "alice", "m-00000005"]], false],
        [[["bob", "alice", "m-00000006"]], true],
      ]);
    }),
});

Deno.test({
  name: name("a batch over NATS's max_payload arrives whole, in fragments"),
  ignore,
  fn: () =>
    withPair(async (a, b) => {
      a.sink.users = ["bob"];
      await a.fabric.announce(["bob"], true);
      // Two messages of ~1 MiB each: the frame is over the 1 MiB max_payload, so is one message.
      const big = [
        msg("m-00000001", "alice", "bob", 1 << 20),
        msg("m-00000002", "alice", "bob", 700_000),
      ];
      big[0][3][12345] = 1;
      for (const m of big) b.fabric.forward("srv-a", m);
      await waitUntil(
        () => a.sink.forwarded.flatMap(([, ms]) => ms).length === 2,
        10_000,
        "both big messages",
      );
      expect(a.sink.forwarded.flatMap(([, ms]) => ms)).toEqual(big);
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

Deno.test({
  name: name("hostile payloads are refused one by one and the fabric keeps working"),
  ignore,
  fn: () =>
    withPair(async (a, b, ns) => {
      a.sink.users = ["bob"];
      await a.fabric.announce(["bob"], true);
      const evil = await connect({ servers: [NATS_TEST_URL] });
      try {
        const toA = (from: string) => `fastchat.${ns}.srv.srv-a.${from}`;
        // Not MessagePack; nested too deep; a fwd claiming another origin; a frame not for this subject.
        evil.publish(toA("srv-b"), new Uint8Array([0xc1, 0xff, 0x00]));
        evil.publish(toA("srv-b"), new Uint8Array([...new Array(40).fill(0x91), 0x01]));
        evil.publish(
          toA("srv-evil"),
          encodePeerFrame({ t: "fwd", origin: "srv-b", msgs: [msg("m-00000001", "x", "bob")] }),
        );
        evil.publish(
          toA("srv-b"),
          encodePeerFrame({ t: "presence", seq: 1, online: true, users: [] }),
        );
        // A heartbeat that is not 8 bytes, a fragment out of sequence, a subject token with a dot.
        evil.publish(`fastchat.${ns}.hb.srv-evil`, new Uint8Array(3));
        const frag = new Uint8Array(16);
        new DataView(frag.buffer).setUint32(0, 1);
        new DataView(frag.buffer).setUint32(4, 2);
        evil.publish(`fastchat.${ns}.frag.srv-a.srv-b`, frag);
        await evil.flush();
        await waitUntil(
          () => a.log.seen.filter((w) => w.startsWith("peer_frame_refused")).length >= 6,
          5000,
          () => `six refusals (${a.log.seen.join("; ")})`,
        );
        expect(a.sink.forwarded).toEqual([]);
        expect(a.fabric.linkedPeers).toEqual(["srv-b"]);
        b.fabric.forward("srv-a", msg("m-00000002", "alice", "bob"));
        await waitUntil(() => a.sink.forwarded.length === 1, 5000, "a real forward after them");
      } finally {
        await evil.close();
      }
    }),
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
