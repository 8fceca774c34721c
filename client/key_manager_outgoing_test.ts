/**
 * KeyManager, sending side: one RSA wrap per session key, reuse and
 * rotation by count and by age.
 * Fixtures: `@fastchat/testing/key_manager_fixtures`.
 */
import { expect } from "expect";
import { peekEnvelope } from "@fastchat/lib/crypto";
import { IMPORTED_KEYS_KEPT, KeyManager } from "./key_manager.ts";
import {
  alice,
  bob,
  carol,
  DAY,
  FakeServer,
  fp,
  openAs,
  RsaSpy,
} from "@fastchat/testing/key_manager_fixtures";

Deno.test("outgoing: one RSA wrap for the first key, reused for 1,000 messages, then rotated", async () => {
  const srv = new FakeServer(bob);
  const km = new KeyManager(srv.deps(alice));
  expect(km.rotateEvery).toBe(1000);
  using rsa = new RsaSpy();

  const first = await km.outgoing("bob");
  expect(rsa.wraps).toBe(1);
  expect(srv.calls.fetchKeys).toBe(1);
  expect(first.count).toBe(1);
  expect(first.fp).toBe(await fp(bob.pub));
  expect(first.env).not.toBeNull();
  expect(peekEnvelope(first.env!)).toMatchObject({
    kid: first.kid,
    sender: "alice",
    recipient: "bob",
  });
  // Bob can open it and gets the very key alice encrypts with.
  const opened = await openAs(bob, alice, first.env!);
  expect(opened.kid).toBe(first.kid);
  expect(opened.key).toEqual(first.raw);

  const kids = new Set<string | undefined>();
  for (let i = 0; i < 999; i++) kids.add(km.outgoingReady("bob")?.kid);
  expect([...kids]).toEqual([first.kid]);
  expect(first.count).toBe(1000);
  expect(rsa.wraps).toBe(1); // still: no RSA per message
  expect(srv.calls.fetchKeys).toBe(1);

  // The 1001st message needs a new key.
  expect(km.outgoingReady("bob")).toBeNull();
  const second = await km.outgoing("bob");
  expect(second.kid).not.toBe(first.kid);
  expect(second.count).toBe(1);
  expect(second.raw).not.toEqual(first.raw);
  expect(rsa.wraps).toBe(2);
  expect(srv.calls.fetchKeys).toBe(2); // recipient keys are re-checked on rotation
  expect(srv.keyChanges).toEqual([]);
  expect((await openAs(bob, alice, second.env!)).key).toEqual(second.raw);
});

Deno.test("outgoing: a small rotateEvery rotates every n messages, concurrent senders share a wrap", async () => {
  const srv = new FakeServer(bob);
  const km = new KeyManager(srv.deps(alice, { rotateEvery: 3 }));
  using rsa = new RsaSpy();

  const kids: string[] = [];
  for (let i = 0; i < 10; i++) kids.push((await km.outgoing("bob")).kid);
  const [k1, k2, k3, k4] = [kids[0], kids[3], kids[6], kids[9]];
  expect(kids).toEqual([k1, k1, k1, k2, k2, k2, k3, k3, k3, k4]);
  expect(new Set([k1, k2, k3, k4]).size).toBe(4);
  expect(rsa.wraps).toBe(4);

  // Seven concurrent sends to a new peer: one creation serves the first
  // three, then the rest wait on the next ones; never more keys than needed.
  srv.keys.set("carol", carol.pub);
  const wrapsBefore = rsa.wraps;
  const got = await Promise.all(Array.from({ length: 7 }, () => km.outgoing("carol")));
  const uses = new Map<string, number>();
  for (const k of got) uses.set(k.kid, (uses.get(k.kid) ?? 0) + 1);
  expect([...uses.values()].sort()).toEqual([1, 3, 3]);
  expect(rsa.wraps - wrapsBefore).toBe(3);
});

Deno.test("outgoing: a key older than rotateAfterMs (24 h by default) is rotated", async () => {
  const srv = new FakeServer(bob);
  const km = new KeyManager(srv.deps(alice));
  expect(km.rotateAfterMs).toBe(DAY);
  using rsa = new RsaSpy();

  const k1 = await km.outgoing("bob");
  expect(km.outgoingReady("bob", k1.created + DAY - 1)?.kid).toBe(k1.kid);
  expect(km.outgoingReady("bob", k1.created + DAY)).toBeNull();
  expect(km.outgoingReady("bob", k1.created + 2 * DAY)).toBeNull();
  expect(k1.count).toBe(2); // refused calls do not count a use

  // outgoing() reads the clock itself: a day later it creates a new key.
  const realNow = Date.now;
  const later = realNow() + DAY;
  Date.now = () => later;
  let k2;
  try {
    k2 = await km.outgoing("bob");
  } finally {
    Date.now = realNow;
  }
  expect(k2.kid).not.toBe(k1.kid);
  expect(k2.created).toBe(later);
  expect(peekEnvelope(k2.env!).createdAt).toBe(later);
  expect(rsa.wraps).toBe(2);

  // A custom age limit.
  const short = new KeyManager(srv.deps(alice, { rotateAfterMs: 60_000 }));
  const s1 = await short.outgoing("bob");
  expect(short.outgoingReady("bob", s1.created + 59_999)?.kid).toBe(s1.kid);
  expect(short.outgoingReady("bob", s1.created + 60_000)).toBeNull();
});

Deno.test("outgoing: imported contact keys are kept for the most recent contacts only; the pins stay", async () => {
  const srv = new FakeServer();
  const contacts = Array.from({ length: IMPORTED_KEYS_KEPT + 6 }, (_, i) => `c${i}`);
  for (const c of contacts) srv.keys.set(c, bob.pub);
  const km = new KeyManager(srv.deps(alice));
  for (const c of contacts) await km.outgoing(c);
  expect(srv.calls.fetchKeys).toBe(contacts.length);
  expect(km.importedKeys).toBe(IMPORTED_KEYS_KEPT);
  // The last contact's imported keys were kept; c0's were forgotten and
  // are imported again from its pin, without a fetch.
  const last = contacts.at(-1)!;
  expect(await km.contactKeys(last)).toBe(await km.contactKeys(last));
  const c0 = await km.contactKeys("c0");
  expect(c0.raw).toEqual(bob.pub);
  expect(await km.contactKeys("c0")).toBe(c0);
  expect(srv.calls.fetchKeys).toBe(contacts.length);
  expect(km.importedKeys).toBe(IMPORTED_KEYS_KEPT);
  expect(Object.keys(km.snapshot().pins)).toHaveLength(contacts.length);
});
