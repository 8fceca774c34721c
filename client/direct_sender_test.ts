import { expect } from "expect";
import { generateMessageKeyBytes, importMessageKey, messageAadView } from "@fastchat/lib/crypto";
import { openChatMessage } from "@fastchat/lib/crypto/chat_aead";
import type { ClientFrameOf } from "@fastchat/lib/protocol";
import { DirectSender } from "./direct_sender.ts";
import type { OutgoingKey } from "./key_manager.ts";
import { parseBody } from "./message_body.ts";
import { batchMembers, MAX_BATCH_MESSAGES, MAX_BATCHED_TEXT, memberId } from "./message_batch.ts";
import { decodeContent, type MessageContent } from "./message_content.ts";

function outgoingKey(kid = "kid-0123456789"): OutgoingKey {
  const raw = generateMessageKeyBytes();
  return { kid, raw, key: importMessageKey(raw), count: 0, created: 0, fp: "fp", env: null };
}

type Sealed = { frame: ClientFrameOf<"send">; texts: { id: string; text: string; ts: number }[] };

function recorder(): { sender: DirectSender; out: Sealed[] } {
  const out: Sealed[] = [];
  const sender = new DirectSender((frame, first, items) =>
    out.push({ frame, texts: items.map((it, i) => ({ id: memberId(first, i), ...it })) })
  );
  return { sender, out };
}

/** Opens a frame as its recipient would. */
function open(frame: ClientFrameOf<"send">, key: OutgoingKey): MessageContent {
  const body = parseBody(frame.body);
  return decodeContent(openChatMessage(
    key.key,
    body.iv,
    body.c,
    messageAadView({
      kind: "dm",
      from: "alice",
      to: frame.to,
      id: frame.id,
      sentAt: frame.ts,
      kid: body.k,
    }),
  ));
}

Deno.test("texts to one contact in one tick leave as one frame; the ids are its members", async () => {
  const key = outgoingKey();
  const { sender, out } = recorder();
  const ids = ["one", "two", "three"].map((t) => sender.add("alice", "bob", t, key));
  expect(sender.frames).toBe(1);
  expect(out).toEqual([]);
  await Promise.resolve();
  expect(sender.frames).toBe(0);
  expect(out.length).toBe(1);
  const { frame, texts } = out[0];
  expect(batchMembers(frame.id)).toEqual(ids);
  expect(texts.map((t) => [t.id, t.text])).toEqual([[ids[0], "one"], [ids[1], "two"], [
    ids[2],
    "three",
  ]]);
  const c = open(frame, key);
  expect(c.type === "batch" && c.items.map((i) => i.text)).toEqual(["one", "two", "three"]);
  expect(frame.ts).toBe(texts[0].ts);
});

Deno.test("a lone text is sealed as a text under a plain random id", async () => {
  const key = outgoingKey();
  const { sender, out } = recorder();
  const id = sender.add("alice", "bob", "hi", key);
  await Promise.resolve();
  expect(out.length).toBe(1);
  expect(out[0].frame.id).toBe(id);
  expect(id.length).toBe(22);
  expect(open(out[0].frame, key)).toEqual({ type: "text", text: "hi" });
});

Deno.test("one frame per contact, a full batch closes, later ticks make new frames", async () => {
  const key = outgoingKey();
  const { sender, out } = recorder();
  sender.add("alice", "bob", "b", key);
  sender.add("alice", "carol", "c", key);
  for (let i = 0; i < MAX_BATCH_MESSAGES; i++) sender.add("alice", "bob", `b${i}`, key);
  await Promise.resolve();
  expect(out.map((s) => [s.frame.to, s.texts.length])).toEqual([
    ["bob", MAX_BATCH_MESSAGES],
    ["carol", 1],
    ["bob", 1],
  ]);
  sender.add("alice", "bob", "later", key);
  await Promise.resolve();
  expect(out.length).toBe(4);
  expect(open(out[3].frame, key)).toEqual({ type: "text", text: "later" });
});

Deno.test("a new key or a long text closes the open batch first: order is kept", () => {
  const k1 = outgoingKey("kid-aaaaaaaaaa");
  const k2 = outgoingKey("kid-bbbbbbbbbb");
  const { sender, out } = recorder();
  sender.add("alice", "bob", "1", k1);
  sender.add("alice", "bob", "2", k1);
  sender.add("alice", "bob", "3", k2);
  const long = "x".repeat(MAX_BATCHED_TEXT + 1);
  sender.add("alice", "bob", long, k2);
  sender.flush();
  expect(out.map((s) => s.texts.map((t) => t.text.slice(0, 3)))).toEqual([["1", "2"], ["3"], [
    "xxx",
  ]]);
  expect(open(out[0].frame, k1)).toMatchObject({ type: "batch" });
  expect(open(out[2].frame, k2)).toEqual({ type: "text", text: long });
  sender.flush(); // nothing left: nothing more
  expect(out.length).toBe(3);
});

Deno.test("contacts' batch records are reused tick after tick, and dropped past 256 contacts", async () => {
  const key = outgoingKey();
  const { sender, out } = recorder();
  const contacts = Array.from({ length: 300 }, (_, i) => `user${i}`);
  const firstIds = new Set<string>();
  for (let tick = 0; tick < 3; tick++) {
    // Every contact once, then the first three again: each tick a frame per contact, in order.
    const ids = contacts.map((to) => sender.add("alice", to, `t${tick} ${to}`, key));
    const again = contacts.slice(0, 3).map((to) => sender.add("alice", to, `t${tick} again`, key));
    expect(sender.frames).toBe(300);
    out.length = 0;
    await Promise.resolve();
    expect(sender.frames).toBe(0);
    expect(out.map((s) => s.frame.to)).toEqual(contacts);
    expect(out.map((s) => s.texts.map((t) => t.id))).toEqual(
      ids.map((id, i) => i < 3 ? [id, again[i]] : [id]),
    );
    for (const s of out.slice(0, 5)) {
      const c = open(s.frame, key);
      const texts = c.type === "batch"
        ? c.items.map((it) => it.text)
        : [(c as { text: string }).text];
      expect(texts).toEqual(s.texts.map((t) => t.text));
    }
    for (const s of out) firstIds.add(s.texts[0].id);
  }
  expect(firstIds.size).toBe(3 * 300); // a reused record still gets a fresh id every tick
});
