/**
 * KeyManager snapshot and restore: a restored manager reuses its keys.
 * Fixtures: `@fastchat/testing/key_manager_fixtures`.
 */
import { expect } from "expect";
import { msgpackCodec } from "@fastchat/lib/msgpack_codec";
import { decryptText, encryptText } from "@fastchat/lib/crypto/chat_aead";
import { KeyManager, type KeyState } from "./key_manager.ts";
import { alice, bob, FakeServer, meta, RsaSpy } from "@fastchat/testing/key_manager_fixtures";

Deno.test("snapshot/restore: a restored manager reuses the same keys without RSA or fetches", async () => {
  const aliceSrv = new FakeServer(bob);
  const aliceKm = new KeyManager(aliceSrv.deps(alice));
  const out = await aliceKm.outgoing("bob");
  for (let i = 0; i < 4; i++) aliceKm.outgoingReady("bob");
  expect(aliceSrv.changes).toBeGreaterThan(0); // state worth saving was announced
  const bobSrv = new FakeServer(alice);
  const bobKm = new KeyManager(bobSrv.deps(bob));
  const inKey = await bobKm.incoming("alice", out.kid, out.env!);
  expect(bobSrv.changes).toBeGreaterThan(0);
  // Before the snapshot: the server confirmed the envelope, so it is no longer attached.
  aliceKm.envelopeStored("bob", "some-other-kid");
  expect(out.env).not.toBeNull();
  aliceKm.envelopeStored("bob", out.kid);
  expect(out.env).toBeNull();

  // Persist the way UserHome does (MessagePack), then restore.
  const packr = msgpackCodec();
  const aState = packr.unpack(packr.pack(aliceKm.snapshot())) as KeyState;
  const bState = packr.unpack(packr.pack(bobKm.snapshot())) as KeyState;
  expect(aState.out.bob).toMatchObject({ kid: out.kid, count: 5, created: out.created, env: null });
  expect("key" in aState.out.bob).toBe(false);
  expect(bState.in[out.kid]).toMatchObject({ kid: out.kid, from: "alice" });

  using rsa = new RsaSpy();
  const offline = new FakeServer(); // knows nothing: any fetch would fail
  const alice2 = new KeyManager(offline.deps(alice), aState);
  const bob2 = new KeyManager(offline.deps(bob), bState);

  const k = alice2.outgoingReady("bob");
  expect(k).toMatchObject({ kid: out.kid, count: 6, fp: out.fp, env: null });
  expect(k!.raw).toEqual(out.raw);
  expect((await alice2.contactKeys("bob")).raw).toEqual(bob.pub);

  // Restored sender → original receiver.
  const m1 = meta("alice", "bob", k!.kid, "msg-restored1");
  const c1 = encryptText(k!.key, "after restart", m1);
  expect(decryptText(inKey.key, c1.iv, c1.ct, m1)).toBe("after restart");
  // Original sender → restored receiver.
  const rk = bob2.incomingReady("alice", out.kid);
  expect(rk).not.toBeNull();
  expect(await bob2.incoming("alice", out.kid)).toBe(rk);
  const m2 = meta("alice", "bob", out.kid, "msg-original1");
  const c2 = encryptText(out.key, "before restart", m2);
  expect(decryptText(rk!.key, c2.iv, c2.ct, m2)).toBe("before restart");
  expect(bob2.incomingReady("carol", out.kid)).toBeNull();

  expect(rsa.wraps + rsa.unwraps).toBe(0);
  expect(offline.calls).toEqual({ fetchKeys: 0, fetchEnvelope: 0 });

  // The restored count carries on towards rotation: 994 more uses, then due.
  for (let i = 0; i < 994; i++) expect(alice2.outgoingReady("bob")).not.toBeNull();
  expect(alice2.outgoingReady("bob")).toBeNull();
});
