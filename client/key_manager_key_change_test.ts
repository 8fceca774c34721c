/**
 * KeyManager and changed keys: a changed key blocks until trusted, survives
 * a restart, holds incoming envelopes; safety numbers show old and new.
 * Fixtures: `@fastchat/testing/key_manager_fixtures`.
 */
import { expect } from "expect";
import { msgpackCodec } from "@fastchat/lib/msgpack_codec";
import { safetyNumber } from "@fastchat/lib/crypto";
import { KeyManager, type KeyState } from "./key_manager.ts";
import {
  alice,
  bob,
  FakeServer,
  fp,
  openAs,
  person,
  RsaSpy,
} from "@fastchat/testing/key_manager_fixtures";

Deno.test("key change: a changed recipient key blocks sending until trust, nothing wraps for it", async () => {
  const bob2 = await person("bob"); // a new identity (or a server substituting keys)
  const srv = new FakeServer(bob);
  const km = new KeyManager(srv.deps(alice, { rotateEvery: 2 }));

  const k1 = await km.outgoing("bob");
  expect(km.outgoingReady("bob")?.kid).toBe(k1.kid);
  expect(km.pinned("bob")).toEqual(bob.pub);

  srv.keys.set("bob", bob2.pub);
  expect(km.outgoingReady("bob")).toBeNull(); // due: 2 uses
  using rsa = new RsaSpy();
  await expect(km.outgoing("bob")).rejects.toMatchObject({ code: "KEY_CHANGED" });
  expect(rsa.wraps).toBe(0); // nothing encrypted to the new key
  expect(srv.keyChanges).toEqual([["bob", await fp(bob.pub), await fp(bob2.pub)]]);
  expect(km.blocked("bob")).toBe(true);
  expect(km.pinned("bob")).toEqual(bob.pub); // the old pin stays
  expect(km.pendingKeys("bob")).toEqual(bob2.pub);
  // Blocked: every use fails without asking the server again, reported once.
  const fetches = srv.calls.fetchKeys;
  await expect(km.outgoing("bob")).rejects.toMatchObject({ code: "KEY_CHANGED" });
  await expect(km.contactKeys("bob")).rejects.toMatchObject({ code: "KEY_CHANGED" });
  expect(srv.calls.fetchKeys).toBe(fetches);
  expect(srv.keyChanges.length).toBe(1);
  expect(rsa.wraps).toBe(0);

  km.trust("bob");
  expect(km.blocked("bob")).toBe(false);
  expect(km.pinned("bob")).toEqual(bob2.pub);
  const k2 = await km.outgoing("bob");
  expect(k2.kid).not.toBe(k1.kid);
  expect(k2.fp).toBe(await fp(bob2.pub));
  expect((await openAs(bob2, alice, k2.env!)).key).toEqual(k2.raw);
  await expect(openAs(bob, alice, k2.env!)).rejects.toMatchObject({ code: "DECRYPT_FAILED" });
  // Nothing pending any more.
  expect(() => km.trust("bob")).toThrow(expect.objectContaining({ code: "BAD_REQUEST" }));
  expect(() => km.trust("carol")).toThrow(expect.objectContaining({ code: "BAD_REQUEST" }));
});

Deno.test("key change: an explicit refresh blocks, drops the sending key; unchanged keys change nothing", async () => {
  const bob2 = await person("bob");
  const srv = new FakeServer(bob);
  const km = new KeyManager(srv.deps(alice));

  const k1 = await km.outgoing("bob");
  await km.contactKeys("bob", true);
  expect(srv.keyChanges).toEqual([]);
  expect(km.outgoingReady("bob")?.kid).toBe(k1.kid);

  srv.keys.set("bob", bob2.pub);
  await expect(km.contactKeys("bob", true)).rejects.toMatchObject({ code: "KEY_CHANGED" });
  // Far from due, but the contact is blocked: the old sending key is gone too.
  expect(km.outgoingReady("bob")).toBeNull();
});

Deno.test("key change: the block and the pending key survive a restart; trust then persists", async () => {
  const bob2 = await person("bob");
  const srv = new FakeServer(bob);
  const km = new KeyManager(srv.deps(alice));
  await km.contactKeys("bob");
  srv.keys.set("bob", bob2.pub);
  const before = srv.changes;
  await expect(km.contactKeys("bob", true)).rejects.toMatchObject({ code: "KEY_CHANGED" });
  expect(srv.changes).toBeGreaterThan(before); // the block is saved

  const packr = msgpackCodec();
  const state = packr.unpack(packr.pack(km.snapshot())) as KeyState;
  const offline = new FakeServer();
  const restarted = new KeyManager(offline.deps(alice), state);
  expect(restarted.blocked("bob")).toBe(true);
  expect(restarted.pinned("bob")).toEqual(bob.pub);
  expect(restarted.pendingKeys("bob")).toEqual(bob2.pub);
  await expect(restarted.outgoing("bob")).rejects.toMatchObject({ code: "KEY_CHANGED" });
  expect(offline.calls.fetchKeys).toBe(0);

  restarted.trust("bob");
  const again = new KeyManager(
    offline.deps(alice),
    packr.unpack(packr.pack(restarted.snapshot())) as KeyState,
  );
  expect(again.blocked("bob")).toBe(false);
  expect((await again.contactKeys("bob")).raw).toEqual(bob2.pub);
  expect(offline.calls.fetchKeys).toBe(0);
});

Deno.test("key change: an envelope from a blocked sender is held (KEY_CHANGED), opened after trust", async () => {
  const bob2 = await person("bob");
  const srv = new FakeServer(bob);
  const km = new KeyManager(srv.deps(alice));
  await km.contactKeys("bob");
  srv.keys.set("bob", bob2.pub);
  await expect(km.contactKeys("bob", true)).rejects.toMatchObject({ code: "KEY_CHANGED" });

  const out = await new KeyManager(new FakeServer(alice).deps(bob2)).outgoing("alice");
  await expect(km.incoming("bob", out.kid, out.env!)).rejects.toMatchObject({
    code: "KEY_CHANGED",
  });
  expect(km.incomingReady("bob", out.kid)).toBeNull();
  km.trust("bob");
  expect((await km.incoming("bob", out.kid, out.env!)).raw).toEqual(out.raw);
});

Deno.test("safety numbers: both sides compute the same; a key change shows the old and the new", async () => {
  const bob2 = await person("bob");
  const srv = new FakeServer(alice, bob);
  const kmA = new KeyManager(srv.deps(alice));
  const kmB = new KeyManager(srv.deps(bob));
  const number = await kmA.safetyNumber(alice.pub, "bob");
  expect(number).toBe(await kmB.safetyNumber(bob.pub, "alice"));
  expect(number).toBe(
    await safetyNumber({ user: "alice", keys: alice.pub }, { user: "bob", keys: bob.pub }),
  );
  expect(await kmA.pendingSafetyNumbers(alice.pub, "bob")).toBeNull();

  srv.keys.set("bob", bob2.pub);
  await expect(kmA.contactKeys("bob", true)).rejects.toMatchObject({ code: "KEY_CHANGED" });
  const me = { user: "alice", keys: alice.pub };
  expect(await kmA.pendingSafetyNumbers(alice.pub, "bob")).toEqual({
    pinned: number,
    pending: await safetyNumber(me, { user: "bob", keys: bob2.pub }),
  });
});
