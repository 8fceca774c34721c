/**
 * Peer links over real loopback TCP: sealed for their whole life, bound to
 * the registry keys, `origin` and acks bound to the authenticated peer.
 */
import { expect } from "expect";
import { peerIdentity, peerInfo } from "@fastchat/testing/peer_fixtures";
import type { FastChatError } from "@fastchat/lib/errors";
import type { Logger } from "@fastchat/lib/logger";
import { waitUntil } from "@fastchat/lib/wait_until";
import { acceptPeer, dialPeer, type LinkIdentity, type PeerLink } from "./peer_link.ts";
import type { FabricSink } from "./fabric.ts";
import { PeerMesh } from "./peer_mesh.ts";
import type { ForwardedMessage, PeerFrame } from "./peer_protocol.ts";
import type { ServerInfo } from "./server_registry.ts";

/** A TCP proxy that can flip a byte of, or replay, what the connector sends. */
class Proxy {
  readonly listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  flipNext = false;
  recording: Uint8Array[] | null = null;
  #up: Deno.Conn | null = null;
  #conns: Deno.Conn[] = [];
  readonly #pumps: Promise<void>[] = [];
  constructor(target: number) {
    this.#pumps.push((async () => {
      const down = await this.listener.accept();
      const up = await Deno.connect({ hostname: "127.0.0.1", port: target });
      this.#up = up;
      this.#conns.push(down, up);
      this.#pumps.push(this.#pump(down, up, true), this.#pump(up, down, false));
    })());
  }
  get port() {
    return (this.listener.addr as Deno.NetAddr).port;
  }
  async #pump(from: Deno.Conn, to: Deno.Conn, upstream: boolean): Promise<void> {
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        const chunk = buf.slice(0, n);
        if (upstream && this.flipNext) {
          this.flipNext = false;
          chunk[n - 1] ^= 0x01; // inside the GCM tag of the last frame of the chunk
        }
        if (upstream) this.recording?.push(chunk.slice());
        await to.write(chunk);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.BadResource || e instanceof Deno.errors.ConnectionReset)) {
        throw e;
      }
    }
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* already closed by the other pump */ }
    }
  }
  async replay(): Promise<void> {
    for (const c of this.recording ?? []) await this.#up!.write(c);
  }
  async close(): Promise<void> {
    this.listener.close();
    await Promise.all(this.#pumps);
  }
}

/** An acceptor on an ephemeral port recording what arrives and how the link ended. */
function acceptor(me: LinkIdentity, registry: Map<string, Uint8Array>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const frames: PeerFrame[] = [];
  let frameSeen!: () => void;
  let nextFrame = new Promise<void>((r) => frameSeen = r);
  let closed!: (e?: FastChatError) => void;
  const closedWith = new Promise<FastChatError | undefined>((r) => closed = r);
  const link = (async (): Promise<PeerLink> => {
    const conn = await listener.accept();
    listener.close();
    return await acceptPeer(me, conn, (id) => Promise.resolve(registry.get(id) ?? null), {
      onFrame: (f) => {
        frames.push(f);
        frameSeen();
        nextFrame = new Promise<void>((r) => frameSeen = r);
      },
      onClose: (e) => closed(e),
    });
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    frames,
    link,
    closedWith,
    next: () => nextFrame,
  };
}

const fwd = (origin: string, id: string): PeerFrame => ({
  t: "fwd",
  origin,
  msgs: [[id, "alice", "bob", new Uint8Array([1, 2, 3])]],
});

Deno.test("a byte flipped in a sealed frame closes the link; the frame is not delivered", async () => {
  const a = await peerIdentity("srv-a"), b = await peerIdentity("srv-b");
  const acc = acceptor(b, new Map([[a.id, a.publicKey]]));
  const proxy = new Proxy(acc.port);
  const link = await dialPeer(a, peerInfo(b.id, b.publicKey, proxy.port), {
    onFrame: () => {},
    onClose: () => {},
  });
  await acc.link;
  const got = acc.next();
  link.send(fwd(a.id, "m-000000001"));
  await got;
  proxy.flipNext = true;
  link.send(fwd(a.id, "m-000000002"));
  const err = await acc.closedWith;
  expect(err?.code).toBe("PEER_LINK_TAMPERED");
  expect(acc.frames.map((f) => f.t === "fwd" && f.msgs[0][0])).toEqual(["m-000000001"]);
  link.close();
  await proxy.close();
});

Deno.test("a replayed sealed frame is refused and closes the link", async () => {
  const a = await peerIdentity("srv-a"), b = await peerIdentity("srv-b");
  const acc = acceptor(b, new Map([[a.id, a.publicKey]]));
  const proxy = new Proxy(acc.port);
  const link = await dialPeer(a, peerInfo(b.id, b.publicKey, proxy.port), {
    onFrame: () => {},
    onClose: () => {},
  });
  await acc.link;
  proxy.recording = [];
  const got = acc.next();
  link.send(fwd(a.id, "m-000000001"));
  await got;
  await proxy.replay();
  expect((await acc.closedWith)?.code).toBe("PEER_LINK_TAMPERED");
  expect(acc.frames.length).toBe(1);
  link.close();
  await proxy.close();
});

Deno.test("knowing a server id without its key does not complete the handshake", async () => {
  const a = await peerIdentity("srv-a"), b = await peerIdentity("srv-b");
  const impostor = await peerIdentity("srv-a"); // same id, a key not in the registry
  const acc = acceptor(b, new Map([[a.id, a.publicKey]]));
  const dial = dialPeer(impostor, peerInfo(b.id, b.publicKey, acc.port), {
    onFrame: () => {},
    onClose: () => {},
  });
  await expect(acc.link).rejects.toMatchObject({ code: "BAD_SIGNATURE" });
  await expect(dial).rejects.toBeDefined();
  expect(acc.frames).toEqual([]);
});

Deno.test("a connector refuses an acceptor that is not the registered key", async () => {
  const a = await peerIdentity("srv-a"), b = await peerIdentity("srv-b");
  const fakeB = await peerIdentity("srv-b");
  const acc = acceptor(fakeB, new Map([[a.id, a.publicKey]]));
  const dial = dialPeer(a, peerInfo(b.id, b.publicKey, acc.port), {
    onFrame: () => {},
    onClose: () => {},
  });
  await expect(dial).rejects.toMatchObject({ code: "BAD_SIGNATURE" });
  await expect(acc.link).rejects.toBeDefined();
});

/** A mesh whose sink calls are recorded; `flush` marks a presence frame processed. */
function recordingMesh(
  me: LinkIdentity,
  servers: () => ServerInfo[],
  warnings: string[],
  localUsers: string[] = [],
) {
  const forwards: [string, ForwardedMessage[]][] = [];
  const acks: [string, string, string][][] = [];
  let flushed!: () => void;
  let onFlush = new Promise<void>((r) => flushed = r);
  const sink: FabricSink = {
    deliverForwarded: (origin, msgs) => forwards.push([origin, msgs]),
    deliverGroupForwarded: () => {},
    ackRouted: (items) => acks.push(items),
    receiptsRouted: () => {},
    flush: () => {
      flushed();
      onFlush = new Promise<void>((r) => flushed = r);
      return Promise.resolve();
    },
    localUsers: () => localUsers,
    resync: () => {},
  };
  const log: Logger = {
    debug: () => {},
    info: () => {},
    warn: (event) => warnings.push(event),
    error: (event) => warnings.push(event),
  };
  const mesh = PeerMesh.start({
    me,
    host: "127.0.0.1",
    port: 0,
    refresh: () => Promise.resolve(servers()),
    logger: log,
  });
  mesh.attach(sink);
  return { mesh, forwards, acks, flushed: () => onFlush };
}

Deno.test("a fwd claiming another origin and an ack for a message never sent are refused", async () => {
  const a = await peerIdentity("srv-a"),
    b = await peerIdentity("srv-b"),
    c = await peerIdentity("srv-c");
  const warnings: string[] = [];
  let servers: ServerInfo[] = [];
  const mb = recordingMesh(b, () => servers, warnings);
  servers = [peerInfo(a.id, a.publicKey, 0), peerInfo(b.id, b.publicKey, mb.mesh.port)];
  servers.push(peerInfo(c.id, c.publicKey, 0));
  // srv-a is a registered server turned hostile: it speaks the protocol by hand.
  const link = await dialPeer(a, servers[1], { onFrame: () => {}, onClose: () => {} });
  link.send(fwd(c.id, "m-000000001")); // claims to come from srv-c
  link.send({ t: "ack", items: [["bob", "alice", "m-000000002"]] }); // never forwarded to srv-a
  link.send(fwd(a.id, "m-000000003"));
  let processed = mb.flushed();
  link.send({ t: "presence", seq: 1, online: true, users: [] });
  await processed;
  expect(mb.forwards.map(([o, m]) => [o, m[0][0]])).toEqual([[a.id, "m-000000003"]]);
  expect(mb.acks).toEqual([]);
  expect(warnings).toContain("peer_origin_refused");
  expect(warnings).toContain("peer_ack_refused");

  // A message srv-b did forward to srv-a: srv-a's ack for it acts, once; srv-c's would not.
  const ma = recordingMesh(a, () => servers, []);
  servers[0] = peerInfo(a.id, a.publicKey, ma.mesh.port);
  const arrived = new Promise<void>((resolve) => {
    const poll = () => ma.forwards.length ? resolve() : setTimeout(poll, 5);
    poll();
  });
  mb.mesh.update(servers.slice(0, 2));
  mb.mesh.forward(a.id, ["m-000000004", "alice", "bob", new Uint8Array([4])]);
  // Forwards made before the outbound link is up are dropped (stored anyway): re-send until one lands.
  const resend = setInterval(
    () => mb.mesh.forward(a.id, ["m-000000004", "alice", "bob", new Uint8Array([4])]),
    20,
  );
  await arrived;
  clearInterval(resend);
  const linkC = await dialPeer(c, servers[1], { onFrame: () => {}, onClose: () => {} });
  linkC.send({ t: "ack", items: [["bob", "alice", "m-000000004"]] }); // right id, wrong peer
  processed = mb.flushed();
  linkC.send({ t: "presence", seq: 2, online: true, users: [] });
  await processed;
  expect(mb.acks).toEqual([]);
  linkC.close();
  ma.mesh.update(servers.slice(0, 2));
  const acked = new Promise<void>((resolve) => {
    const poll = () => mb.acks.length ? resolve() : setTimeout(poll, 5);
    poll();
  });
  const ackLoop = setInterval(() => ma.mesh.sendAck(b.id, ["bob", "alice", "m-000000004"]), 20);
  await acked;
  clearInterval(ackLoop);
  expect(mb.acks[0]).toEqual([["bob", "alice", "m-000000004"]]);
  link.close();
  ma.mesh.close();
  mb.mesh.close();
});

Deno.test("a peer that dials again replaces its old link: a late close of the old one forgets nothing", async () => {
  const a = await peerIdentity("srv-a"), b = await peerIdentity("srv-b");
  const mb = recordingMesh(b, () => servers, []);
  const servers = [peerInfo(a.id, a.publicKey, 0), peerInfo(b.id, b.publicKey, mb.mesh.port)];
  let oldClosed = false;
  const old = await dialPeer(a, servers[1], { onFrame: () => {}, onClose: () => oldClosed = true });
  old.send({ t: "snapshot", users: ["carol"] });
  let processed = mb.flushed();
  old.send({ t: "presence", seq: 1, online: true, users: [] });
  await processed;
  expect([...mb.mesh.serversOf("carol")]).toEqual([a.id]);

  // srv-a was cut off, gave up on the old link (half-open) and dials again.
  const fresh = await dialPeer(a, servers[1], { onFrame: () => {}, onClose: () => {} });
  fresh.send({ t: "snapshot", users: ["alice"] });
  processed = mb.flushed();
  fresh.send({ t: "presence", seq: 2, online: true, users: [] });
  await processed;
  await waitUntil(() => oldClosed, 10_000, "srv-b to close the replaced link itself");
  old.close();
  expect([...mb.mesh.serversOf("alice")]).toEqual([a.id]);
  expect([...mb.mesh.serversOf("carol")]).toEqual([]);
  fresh.close();
  mb.mesh.close();
});

Deno.test("a peer that dials again after dropping us is told our users again", async () => {
  const a = await peerIdentity("srv-a"), b = await peerIdentity("srv-b");
  let servers: ServerInfo[] = [];
  const ma = recordingMesh(a, () => servers, []);
  const mb = recordingMesh(b, () => servers, [], ["bob"]);
  servers = [peerInfo(a.id, a.publicKey, ma.mesh.port), peerInfo(b.id, b.publicKey, mb.mesh.port)];
  const knowsBob = () =>
    waitUntil(() => [...ma.mesh.serversOf("bob")].includes(b.id), 10_000, "srv-a to know bob", 5);
  mb.mesh.update(servers); // srv-b's own link to srv-a carries its snapshot
  ma.mesh.update(servers);
  await knowsBob();
  // srv-a saw srv-b's heartbeat go stale (a cut) and dropped it; srv-b's
  // link to srv-a stayed open, so nothing would tell srv-a about bob again.
  ma.mesh.update([servers[0]]);
  expect([...ma.mesh.serversOf("bob")]).toEqual([]);
  ma.mesh.update(servers); // srv-b is live again: srv-a dials it
  await knowsBob();
  ma.mesh.close();
  mb.mesh.close();
});
