/** The inbox opens a frame of several texts as that many messages, once. */
import { expect } from "expect";
import type { ServerFrameOf } from "@fastchat/lib/protocol";
import {
  derivePasswordKeys,
  generateMessageKeyBytes,
  importMessageKey,
  messageAadView,
  sealMessage,
} from "@fastchat/lib/crypto";
import { AckBatcher } from "./ack_batcher.ts";
import type { ClientEvent } from "./events.ts";
import { Inbox, type InboxSession } from "./inbox.ts";
import { packBody } from "./message_body.ts";
import { batchWireId, memberId } from "./message_batch.ts";
import { encodeContent } from "./message_content.ts";
import { UserHome } from "./user_home.ts";

const E = "AbCdEfGhIjKlMnOpQrStUv";
const key = { kid: "kid0000002", from: "alice", key: importMessageKey(generateMessageKeyBytes()) };

/** A frame from alice to bob with id `id` sealing `content`. */
function frame(id: string, content: Uint8Array): ServerFrameOf<"msg"> {
  const aad = messageAadView({
    kind: "dm",
    from: "alice",
    to: "bob",
    id,
    sentAt: 100,
    kid: key.kid,
  });
  const { iv, ct } = sealMessage(key.key, content, aad);
  return {
    t: "msg",
    id,
    from: "alice",
    to: "bob",
    kind: "dm",
    ts: 100,
    body: packBody(key.kid, iv, ct),
  };
}

/** A frame from alice to bob with id `id` holding `texts` as one batch record. */
function batchFrame(id: string, texts: string[]): ServerFrameOf<"msg"> {
  return frame(
    id,
    encodeContent({ type: "batch", items: texts.map((text, i) => ({ ts: 100 + i, text })) }),
  );
}

async function withInbox(
  fn: (
    i: Inbox,
    events: ClientEvent[],
    acks: [string, string][],
    home: UserHome,
    vaultKey: CryptoKey,
    newSession: () => Inbox,
  ) => Promise<void>,
) {
  const root = await Deno.makeTempDir();
  try {
    const { vaultKey } = await derivePasswordKeys("pw", new Uint8Array(16), 1000, {
      allowWeak: true,
    });
    const home = UserHome.at(root, "bob");
    const events: ClientEvent[] = [];
    const acks: [string, string][] = [];
    const make = () => {
      const i = new Inbox({
        acks: new AckBatcher(),
        emit: (e) => events.push(e),
        sendAcks: (items) => (acks.push(...items), true),
        history: true,
      });
      i.start(
        {
          user: "bob",
          keys: { incomingReady: () => key },
          home,
          vaultKey,
        } as unknown as InboxSession,
      );
      return i;
    };
    await fn(make(), events, acks, home, vaultKey, make);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("inbox: a batch is shown as its texts, in order, with their ids and times; acked once in the history", async () => {
  await withInbox(async (i, events, acks, home, vaultKey, newSession) => {
    const wire = batchWireId(E, 3);
    i.push(batchFrame(wire, ["one", "two", "three"]));
    await i.idle();
    await home.flush();
    i.flushAcks();
    expect(events).toEqual([0, 1, 2].map((n) => ({
      event: "message",
      id: memberId(E, n),
      from: "alice",
      to: "bob",
      text: ["one", "two", "three"][n],
      sent_at: 100 + n,
    })));
    expect(acks).toEqual([["alice", wire]]);
    const history = await home.readHistory(vaultKey, "alice", 10);
    expect(history.map((r) => [r.id, r.text, r.sentAt])).toEqual([
      [E, "one", 100],
      [memberId(E, 1), "two", 101],
      [memberId(E, 2), "three", 102],
    ]);
    // The same frame again in this session: acknowledged, not shown.
    i.push(batchFrame(wire, ["one", "two", "three"]));
    await i.idle();
    i.flushAcks();
    expect(events.length).toBe(3);
    expect(acks).toEqual([["alice", wire], ["alice", wire]]);
    // A later session (the history remembered) does not show it again either.
    const later = newSession();
    await later.rememberHistory({ home, vaultKey });
    later.push(batchFrame(wire, ["one", "two", "three"]));
    await later.idle();
    later.flushAcks();
    expect(events.length).toBe(3);
    expect(acks.length).toBe(3);
  });
});

Deno.test("inbox: a frame whose id does not announce what it holds is DECRYPT_FAILED and acknowledged", async () => {
  await withInbox(async (i, events, acks) => {
    const lone = (id: string) => frame(id, encodeContent({ type: "text", text: "hi" }));
    const bad = [
      batchFrame(batchWireId(E, 2), ["one", "two", "three"]), // says 2, holds 3
      batchFrame("msg00000001", ["one", "two"]), // a batch under a plain id
      lone(batchWireId("BbCdEfGhIjKlMnOpQrStUv", 2)), // a text under a batch id
    ];
    for (const f of bad) i.push(f);
    await i.idle();
    i.flushAcks();
    expect(events.map((e) => e.event === "error" ? [e.code, e.id] : e.event)).toEqual(
      bad.map((f) => ["DECRYPT_FAILED", f.id]),
    );
    expect(acks.map(([, id]) => id)).toEqual(bad.map((f) => f.id));
  });
});
