import { expect } from "expect";
import type { MessageAadFields } from "@fastchat/lib/crypto";
import { decryptText, encryptText } from "@fastchat/lib/crypto/chat_aead";
import type { FastChatError } from "@fastchat/lib/errors";
import { MAX_HANDOVERS, SenderKeyRing, type SenderKeySnapshot } from "./sender_keys.ts";

const meta = (kid: string, id: string): MessageAadFields => ({
  kind: "group",
  from: "alice",
  to: "team",
  id,
  sentAt: 1,
  kid,
});

Deno.test("a key is handed to each member once; newcomers get the current key", () => {
  const ring = new SenderKeyRing();
  const k1 = ring.sendingKey("team");
  expect(ring.membersWithout("team", ["alice", "bob", "carol"], "alice")).toEqual(["bob", "carol"]);
  ring.markSent("team", ["bob", "carol"]);
  expect(ring.membersWithout("team", ["alice", "bob", "carol"], "alice")).toEqual([]);
  expect(ring.membersWithout("team", ["alice", "bob", "carol", "dave"], "alice")).toEqual(["dave"]);
  expect(ring.sendingKey("team").kid).toBe(k1.kid);
});

Deno.test("after a removal the next message uses a fresh key the removed member cannot open", () => {
  const alice = new SenderKeyRing();
  const carol = new SenderKeyRing();
  const before = alice.sendingKey("team");
  carol.addReceived("team", "alice", before.kid, before.raw);
  alice.markSent("team", ["bob", "carol"]);
  const old = encryptText(before.key, "before", meta(before.kid, "m-000001"));
  expect(
    decryptText(
      carol.lookup("team", "alice", before.kid)!,
      old.iv,
      old.ct,
      meta(before.kid, "m-000001"),
    ),
  )
    .toBe("before");

  alice.memberGone("team", "carol");
  const after = alice.sendingKey("team");
  expect(after.kid).not.toBe(before.kid);
  expect(after.raw).not.toEqual(before.raw);
  expect(alice.membersWithout("team", ["alice", "bob"], "alice")).toEqual(["bob"]);
  const secret = encryptText(after.key, "after", meta(after.kid, "m-000002"));
  // Carol holds every key she was ever given, and none opens the new message.
  expect(carol.lookup("team", "alice", after.kid)).toBeUndefined();
  let code = "";
  try {
    decryptText(
      carol.lookup("team", "alice", before.kid)!,
      secret.iv,
      secret.ct,
      meta(after.kid, "m-000002"),
    );
  } catch (e) {
    code = (e as FastChatError).code;
  }
  expect(code).toBe("DECRYPT_FAILED");
});

Deno.test("received keys: idempotent, bounded per member, dropped when the member goes", () => {
  const ring = new SenderKeyRing();
  const raw = (n: number) => new Uint8Array(32).fill(n);
  for (let i = 0; i < 12; i++) ring.addReceived("team", "bob", `kid-bob-${i}xx`, raw(i));
  ring.addReceived("team", "bob", "kid-bob-11xx", raw(99)); // a resend changes nothing
  expect(ring.lookup("team", "bob", "kid-bob-0xx")).toBeUndefined();
  expect(ring.lookup("team", "bob", "kid-bob-11xx")).toBeDefined();
  expect(ring.lookup("team", "carol", "kid-bob-11xx")).toBeUndefined();
  expect(ring.lookup("other", "bob", "kid-bob-11xx")).toBeUndefined();
  ring.memberGone("team", "bob");
  expect(ring.lookup("team", "bob", "kid-bob-11xx")).toBeUndefined();
});

Deno.test("a snapshot restores every key and what was handed to whom", () => {
  const ring = new SenderKeyRing();
  const mine = ring.sendingKey("team");
  ring.markSent("team", ["bob"]);
  ring.addReceived("team", "bob", "kid-bob-0001", new Uint8Array(32).fill(3));
  const back = SenderKeyRing.restore(structuredClone(ring.snapshot()));
  expect(back.sendingKey("team").kid).toBe(mine.kid);
  expect(back.membersWithout("team", ["bob", "carol"], "alice")).toEqual(["carol"]);
  const m = { ...meta(mine.kid, "m-000003") };
  const ct = encryptText(mine.key, "x", m);
  expect(decryptText(back.lookup("team", "alice", mine.kid)!, ct.iv, ct.ct, m)).toBe("x");
  expect(back.lookup("team", "bob", "kid-bob-0001")).toBeDefined();
  ring.forgetGroup("team");
  expect(ring.lookup("team", "bob", "kid-bob-0001")).toBeUndefined();
});

Deno.test("key handovers: remembered across a snapshot until their receipt, bounded, absent in old files", () => {
  const ring = new SenderKeyRing();
  ring.noteHandover("h-1");
  ring.noteHandover("h-2");
  const again = SenderKeyRing.restore(ring.snapshot());
  expect(again.takeHandover("h-1")).toBe(true);
  expect(again.takeHandover("h-1")).toBe(false); // taken once: the receipt came
  expect(again.takeHandover("other")).toBe(false);
  expect(again.snapshot().handovers).toEqual(["h-2"]);

  for (let i = 0; i <= MAX_HANDOVERS; i++) again.noteHandover(`x-${i}`);
  const snap = again.snapshot();
  expect(snap.handovers).toHaveLength(MAX_HANDOVERS);
  expect(snap.handovers![0]).toBe("x-1"); // the two oldest, h-2 and x-0, were dropped
  // A file written before handovers were saved, or with junk in their place.
  const old: SenderKeySnapshot = { mine: {}, theirs: {} };
  expect(SenderKeyRing.restore(old).takeHandover("h-2")).toBe(false);
  const junk = { mine: {}, theirs: {}, handovers: [7, "ok"] } as unknown as SenderKeySnapshot;
  expect(SenderKeyRing.restore(junk).snapshot().handovers).toEqual(["ok"]);
});
