/**
 * Peer-link liveness over real loopback TCP: a relay in the path stops
 * forwarding without closing anything (a cut host sends no FIN or RST); both
 * ends notice the silence through unanswered pings and close the link with
 * `TIMEOUT`, and the mesh dials again once the path is back and resyncs.
 */
import { expect } from "expect";
import { peerIdentity, peerInfo } from "@fastchat/testing/peer_fixtures";
import { within } from "@fastchat/testing/cluster_peers";
import type { FastChatError } from "@fastchat/lib/errors";
import type { Logger } from "@fastchat/lib/logger";
import { waitUntil } from "@fastchat/lib/wait_until";
import { acceptPeer, dialPeer, type LinkIdentity } from "./peer_link.ts";
import type { FabricSink } from "./fabric.ts";
import { PeerMesh } from "./peer_mesh.ts";
import type { ForwardedMessage } from "./peer_protocol.ts";
import type { ServerInfo } from "./server_registry.ts";

const PING_MS = 250;

/**
 * A TCP relay to `target` that can black-hole the path: after {@link cut}
 * the connections it carries get nothing more (bytes are read and dropped,
 * nothing is closed) and new ones are held unanswered; after
 * {@link restore} new connections go through again (the old ones stay dead).
 */
class BlackholeRelay {
  readonly listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  #cut = false;
  #epoch = 0;
  readonly #conns = new Set<Deno.Conn>();
  readonly #tasks: Promise<void>[] = [];
  readonly #accepting: Promise<void>;

  constructor(readonly target: number) {
    this.#accepting = this.#accept();
  }

  get port(): number {
    return (this.listener.addr as Deno.NetAddr).port;
  }

  cut(): void {
    this.#cut = true;
    this.#epoch++;
  }

  restore(): void {
    this.#cut = false;
  }

  async #accept(): Promise<void> {
    for (;;) {
      let down: Deno.Conn;
      try {
        down = await this.listener.accept();
      } catch {
        return; // closed
      }
      this.#conns.add(down);
      if (this.#cut) {
        this.#tasks.push(this.#pump(down, null, -1)); // held: read and dropped
        continue;
      }
      const up = await Deno.connect({ hostname: "127.0.0.1", port: this.target });
      this.#conns.add(up);
      const epoch = this.#epoch;
      this.#tasks.push(this.#pump(down, up, epoch), this.#pump(up, down, epoch));
    }
  }

  async #pump(from: Deno.Conn, to: Deno.Conn | null, epoch: number): Promise<void> {
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        if (to && epoch === this.#epoch) await to.write(buf.subarray(0, n));
      }
    } catch {
      // closed by close() or by the other pump
    }
    // Past a cut nothing crosses, a close included: the other side only hears silence.
    for (const c of epoch === this.#epoch ? [from, to] : [from]) {
      if (!c || !this.#conns.delete(c)) continue;
      try {
        c.close();
      } catch { /* already closed */ }
    }
  }

  async close(): Promise<void> {
    this.listener.close();
    await this.#accepting;
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    this.#conns.clear();
    await Promise.all(this.#tasks);
  }
}

Deno.test("a silent peer link is pinged, then closed with TIMEOUT at both ends", async () => {
  const a = await peerIdentity("srv-a"), b = await peerIdentity("srv-b");
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const relay = new BlackholeRelay((listener.addr as Deno.NetAddr).port);
  let accClosed!: (e?: FastChatError) => void;
  const accClosedWith = new Promise<FastChatError | undefined>((r) => accClosed = r);
  const frames: string[] = [];
  const accepted = (async () => {
    const conn = await listener.accept();
    listener.close();
    return await acceptPeer(b, conn, (id) => Promise.resolve(id === a.id ? a.publicKey : null), {
      onFrame: (f) => void frames.push(f.t),
      onClose: (e) => accClosed(e),
    }, { pingMs: PING_MS });
  })();
  let dialClosed!: (e?: FastChatError) => void;
  const dialClosedWith = new Promise<FastChatError | undefined>((r) => dialClosed = r);
  const link = await dialPeer(a, peerInfo(b.id, b.publicKey, relay.port), {
    onFrame: () => {},
    onClose: (e) => dialClosed(e),
  }, { pingMs: PING_MS });
  await accepted;
  // Quiet but alive: pings are answered (and never reach the handlers).
  await new Promise((r) => setTimeout(r, PING_MS * 6));
  expect(link.closed).toBe(false);
  link.send({ t: "snapshot", users: [] });
  await waitUntil(() => frames.length === 1, 10_000, "the snapshot to arrive", 5);
  expect(frames).toEqual(["snapshot"]);

  relay.cut();
  expect(await within(dialClosedWith, 20_000, "dialler closes")).toMatchObject({ code: "TIMEOUT" });
  expect(await within(accClosedWith, 20_000, "acceptor closes")).toMatchObject({ code: "TIMEOUT" });
  expect(link.closed).toBe(true);
  await relay.close();
});

Deno.test("a mesh link cut silently is torn down, dialled again once the path is back, and resynced", async () => {
  const a = await peerIdentity("srv-a"), b = await peerIdentity("srv-b");
  const warnings: string[] = [];
  const log: Logger = {
    debug: () => {},
    info: () => {},
    warn: (event) => warnings.push(event),
    error: (event) => warnings.push(event),
  };
  let resyncs = 0;
  const got: ForwardedMessage[] = [];
  const sink = (users: string[], onResync = () => {}): FabricSink => ({
    deliverForwarded: (_origin, msgs) => got.push(...msgs),
    deliverGroupForwarded: () => {},
    ackRouted: () => {},
    receiptsRouted: () => {},
    flush: () => Promise.resolve(),
    localUsers: () => users,
    resync: onResync,
  });
  let servers: ServerInfo[] = [];
  const start = (me: LinkIdentity) =>
    PeerMesh.start({
      me,
      host: "127.0.0.1",
      port: 0,
      refresh: () => Promise.resolve(servers),
      logger: log,
      linkPingMs: PING_MS,
    });
  const ma = start(a), mb = start(b);
  ma.attach(sink([], () => resyncs++));
  mb.attach(sink(["bob"]));
  const relay = new BlackholeRelay(mb.port);
  servers = [peerInfo(a.id, a.publicKey, ma.port), peerInfo(b.id, b.publicKey, mb.port)];
  // srv-a reaches srv-b only through the relay.
  ma.update([servers[0], peerInfo(b.id, b.publicKey, relay.port)]);
  mb.update(servers);
  await waitUntil(() => ma.linkedPeers.includes(b.id), 10_000, "srv-a's link to srv-b", 5);
  await waitUntil(() => [...ma.serversOf("bob")].includes(b.id), 10_000, "srv-a to know bob", 5);
  const linkUps = resyncs;

  relay.cut();
  await waitUntil(() => ma.linkedPeers.length === 0, 10_000, "srv-a to drop the silent link", 5);
  expect(warnings).toContain("peer_link_closed");
  ma.forward(b.id, ["m-00000001", "alice", "bob", new Uint8Array([1])]); // link down: stored only
  relay.restore();
  await waitUntil(() => ma.linkedPeers.includes(b.id), 20_000, "srv-a to dial srv-b again", 5);
  // The new link triggers a resync: what is stored for srv-b's users goes out again.
  expect(resyncs).toBeGreaterThan(linkUps);
  ma.forward(b.id, ["m-00000002", "alice", "bob", new Uint8Array([2])]);
  await waitUntil(() => got.length > 0, 10_000, "a forward over the new link", 5);
  expect(got.map((m) => m[0])).toEqual(["m-00000002"]);
  ma.close();
  mb.close();
  await relay.close();
});
