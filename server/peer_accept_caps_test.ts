/**
 * The peer port caps handshakes in progress per address: past the cap a
 * connection is closed at once (not after the 5 s handshake deadline),
 * while the connections within it stay open. Real TCP, a real PeerMesh.
 */
import { expect } from "expect";
import { PEER_HANDSHAKE_CAPS, PeerMesh } from "./peer_mesh.ts";

/** A raw socket that records when the server closed it. */
async function rawPeer(port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const state = { ended: false, conn, closed: Promise.resolve() };
  state.closed = (async () => {
    const buf = new Uint8Array(1024);
    try {
      while ((await conn.read(buf)) !== null) { /* handshake bytes, if any */ }
    } catch (_e) {
      // Reset by the server (or closed here): either way it ended.
    }
    state.ended = true;
  })();
  return state;
}

Deno.test("PeerMesh: handshakes past the per-address cap are closed at once", async () => {
  const keys = await crypto.subtle.generateKey({ name: "Ed25519" }, false, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const mesh = PeerMesh.start({
    me: { id: "fc-caps", keys },
    host: "127.0.0.1",
    port: 0,
    refresh: () => Promise.resolve([]),
  });
  const within = [];
  for (let i = 0; i < PEER_HANDSHAKE_CAPS.maxPerAddress; i++) within.push(await rawPeer(mesh.port));
  const extra = await rawPeer(mesh.port);
  await extra.closed;
  // Refused at once: every connection within the cap is still in its handshake.
  expect(within.filter((p) => p.ended).length).toBe(0);
  mesh.close();
  for (const p of within) {
    p.conn.close();
    await p.closed;
  }
});
