/** The fabric contract: a server on its own reaches nobody; the peer mesh is a Fabric. */
import { expect } from "expect";
import { type Fabric, LocalFabric } from "./fabric.ts";
import { PeerMesh } from "./peer_mesh.ts";

Deno.test("LocalFabric: nobody is elsewhere, receipts are not taken, announcing resolves", async () => {
  const fabric: Fabric = new LocalFabric();
  fabric.attach({
    deliverForwarded: () => {},
    deliverGroupForwarded: () => {},
    ackRouted: () => {},
    receiptsRouted: () => {},
    flush: () => Promise.resolve(),
    localUsers: () => [],
    resync: () => {},
  });
  expect([...fabric.serversOf("bob")]).toEqual([]);
  expect(fabric.sendReceipt("fc-2", ["alice", "bob", "m-00000001"], false)).toBe(false);
  await fabric.announce(["alice"], true);
  await fabric.announce(["alice"], false);
  expect(fabric.linkedPeers).toEqual([]);
  fabric.close();
});

Deno.test("PeerMesh is a Fabric: a mesh without peers behaves like a server alone", async () => {
  const keys = await crypto.subtle.generateKey({ name: "Ed25519" }, false, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const fabric: Fabric = PeerMesh.start({
    me: { id: "fc-fabric", keys },
    host: "127.0.0.1",
    port: 0,
    refresh: () => Promise.resolve([]),
  });
  try {
    expect([...fabric.serversOf("bob")]).toEqual([]);
    expect(fabric.sendReceipt("fc-2", ["alice", "bob", "m-00000001"], false)).toBe(false);
    await fabric.announce(["alice"], true); // no linked peer to wait for
    expect(fabric.linkedPeers).toEqual([]);
  } finally {
    fabric.close();
  }
});
