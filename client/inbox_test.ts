import { expect } from "expect";
import type { ServerFrameOf } from "@fastchat/lib/protocol";
import {
  derivePasswordKeys,
  generateMessageKeyBytes,
  importMessageKey,
  messageAadView,
  sealMessage,
  utf8Encode,
} from "@fastchat/lib/crypto";
import { encryptText } from "@fastchat/lib/crypto/chat_aead";
import { UserHome } from "./user_home.ts";
import { FastChatError } from "@fastchat/lib/errors";
import { packBody } from "./message_body.ts";
import type { ClientEvent } from "./events.ts";
import { Inbox, type InboxSession } from "./inbox.ts";
import { AckBatcher, processAckBatcher } from "./ack_batcher.ts";

/** A session whose keys are never reached: the messages below fail before decryption. */
const session = { user: "bob" } as unknown as InboxSession;

/** A `msg` frame whose body is not a ciphertext: rejected for good, so acknowledged. */
function garbage(id: string, from = "alice"): ServerFrameOf<"msg"> {
  return { t: "msg", id, from, to: "bob", kind: "dm", ts: 1, body: new Uint8Array([0xc1]) };
}

/** alice's session key `kid` as bob's inbox holds it. */
function aliceKey(kid: string) {
  return { kid, from: "alice", key: importMessageKey(generateMessageKeyBytes()) };
}

/** The AAD fields of alice's DM `id` to bob under `kid`. */
const dmMeta = (kid: string, id: string) => ({
  kind: "dm",
  from: "alice",
  to: "bob",
  id,
  sentAt: 1,
  kid,
});

/** The `msg` frame of alice's DM `id` to bob sealed as `iv`, `ct` under `kid`. */
function dmFrame(kid: string, id: string, iv: Uint8Array, ct: Uint8Array): ServerFrameOf<"msg"> {
  return { t: "msg", id, from: "alice", to: "bob", kind: "dm", ts: 1, body: packBody(kid, iv, ct) };
}

/** An inbox of bob's recording its acknowledgements (as `["b", items]`) and events. */
function recordingInbox(sent: [string, [string, string][]][], events: ClientEvent[]): Inbox {
  return new Inbox({
    acks: new AckBatcher(),
    emit: (e) => events.push(e),
    sendAcks: (items) => {
      sent.push(["b", items]);
      return true;
    },
    history: false,
  });
}

function inbox(
  sent: [string, [string, string][]][],
  name: string,
  events: ClientEvent[] = [],
  onSent = () => {},
  acks = new AckBatcher(),
) {
  const i = new Inbox({
    acks,
    emit: (e) => events.push(e),
    sendAcks: (items) => {
      sent.push([name, items]);
      onSent();
      return true;
    },
    history: false,
  });
  i.start(session);
  return i;
}

Deno.test("inbox: acknowledgements of every inbox sharing a batcher go out together, after the current turn", async () => {
  const sent: [string, [string, string][]][] = [];
  const events: ClientEvent[] = [];
  let bothAtOnce = false;
  let firstSent = () => {};
  const done = new Promise<void>((resolve) => {
    firstSent = () => {
      if (sent.length !== 1) return;
      // By the end of this synchronous pass, the other inbox has sent too.
      queueMicrotask(() => {
        bothAtOnce = sent.length === 2;
        resolve();
      });
    };
  });
  const acks = new AckBatcher();
  const a = inbox(sent, "a", events, () => firstSent(), acks);
  const b = inbox(sent, "b", [], () => firstSent(), acks);
  a.push(garbage("msg0000001"));
  a.push(garbage("msg0000002"));
  b.push(garbage("msg0000003", "carol"));
  // Not in a microtask: a message handled now is acknowledged with later ones.
  await Promise.resolve();
  await Promise.resolve();
  expect(sent).toEqual([]);
  await done;
  expect(bothAtOnce).toBe(true);
  expect(sent).toEqual([
    ["a", [["alice", "msg0000001"], ["alice", "msg0000002"]]],
    ["b", [["carol", "msg0000003"]]],
  ]);
  expect(events.map((e) => e.event)).toEqual(["error", "error"]);
});

Deno.test("inbox: flushAcks sends at once and leaves no timer behind", () => {
  const sent: [string, [string, string][]][] = [];
  const a = inbox(sent, "a");
  a.push(garbage("msg0000004"));
  a.flushAcks();
  expect(sent).toEqual([["a", [["alice", "msg0000004"]]]]);
  // The test's op sanitizer fails it if the batcher's timer were still armed.
});

Deno.test("inbox: transient key failures are not acknowledged; the redelivery is shown", async () => {
  const sent: [string, [string, string][]][] = [];
  const events: ClientEvent[] = [];
  const failures = [
    new FastChatError("CONNECTION_CLOSED", "envelope fetch lost with the connection"),
    new FastChatError("UNKNOWN_KEY", "envelope not stored yet"),
    new FastChatError("STORE_UNAVAILABLE", "store down"),
  ];
  const key = aliceKey("kid0000001");
  const { iv, ct } = encryptText(key.key, "hello", dmMeta(key.kid, "msg0000009"));
  const frame = dmFrame(key.kid, "msg0000009", iv, ct);
  // The key manager boundary: fails transiently three times, then yields the key.
  const keys = {
    incomingReady: () => null,
    incoming: () => {
      const e = failures.shift();
      return e ? Promise.reject(e) : Promise.resolve(key);
    },
  };
  const i = recordingInbox(sent, events);
  i.start({ user: "bob", keys } as unknown as InboxSession);
  for (let n = 0; n < 3; n++) {
    i.push(frame); // the server redelivers what was not acknowledged
    await i.idle();
  }
  i.flushAcks();
  expect(sent).toEqual([]);
  expect(events.map((e) => "code" in e ? e.code : e.event)).toEqual([
    "CONNECTION_CLOSED",
    "UNKNOWN_KEY",
    "STORE_UNAVAILABLE",
  ]);
  i.push(frame);
  await i.idle();
  i.flushAcks();
  expect(events.at(-1)).toMatchObject({ event: "message", id: "msg0000009", text: "hello" });
  expect(sent).toEqual([["b", [["alice", "msg0000009"]]]]);
});

Deno.test("inbox: without a batcher of its own it uses the process-wide one", () => {
  const sent: [string, [string, string][]][] = [];
  const i = new Inbox({
    emit: () => {},
    sendAcks: (items) => {
      sent.push(["p", items]);
      return true;
    },
    history: false,
  });
  i.start(session);
  const before = processAckBatcher.waiting;
  i.push(garbage("msg0000010"));
  expect(processAckBatcher.waiting).toBe(before + 1);
  i.flushAcks();
  expect(processAckBatcher.waiting).toBe(before);
  expect(sent).toEqual([["p", [["alice", "msg0000010"]]]]);
});

Deno.test("inbox: what the local history holds is not shown again; an unreadable history is reported", async () => {
  const root = await Deno.makeTempDir();
  try {
    const salt = new Uint8Array(16);
    const { vaultKey } = await derivePasswordKeys("pw-1", salt, 1000, { allowWeak: true });
    const other = (await derivePasswordKeys("pw-2", salt, 1000, { allowWeak: true })).vaultKey;
    const home = UserHome.at(root, "bob");
    const record = { peer: "alice", from: "alice", to: "bob", text: "seen", sentAt: 1 };
    await home.appendHistory(vaultKey, { id: "msg0000011", ...record });
    // Two decryptable messages: one the history holds, one new.
    const key = {
      kid: "kid0000002",
      from: "alice",
      key: importMessageKey(generateMessageKeyBytes()),
    };
    const msg = (id: string): ServerFrameOf<"msg"> => {
      const aad = { kind: "dm", from: "alice", to: "bob", id, sentAt: 1, kid: key.kid };
      const { iv, ct } = encryptText(key.key, "hi", aad);
      return {
        t: "msg",
        id,
        from: "alice",
        to: "bob",
        kind: "dm",
        ts: 1,
        body: packBody(key.kid, iv, ct),
      };
    };
    const events: ClientEvent[] = [];
    const make = () =>
      new Inbox({
        acks: new AckBatcher(),
        emit: (e) => events.push(e),
        sendAcks: () => true,
        history: false, // (what it writes does not matter here)
      });
    const i = make();
    await i.rememberHistory({ home, vaultKey });
    expect(events).toEqual([]); // history: false reads nothing
    const withHistory = new Inbox({
      acks: new AckBatcher(),
      emit: (e) => events.push(e),
      sendAcks: () => true,
      history: true,
    });
    await withHistory.rememberHistory({ home, vaultKey });
    withHistory.start(
      {
        user: "bob",
        keys: { incomingReady: () => key },
        home,
        vaultKey,
      } as unknown as InboxSession,
    );
    withHistory.push(msg("msg0000011")); // shown before: not again
    withHistory.push(msg("msg0000012"));
    await withHistory.idle();
    await home.flush();
    withHistory.flushAcks();
    expect(events.map((e) => e.event === "message" ? e.id : e.event)).toEqual(["msg0000012"]);

    const wrongKey = new Inbox({
      emit: (e) => events.push(e),
      sendAcks: () => true,
      history: true,
    });
    await wrongKey.rememberHistory({ home, vaultKey: other });
    expect(events.at(-1)).toMatchObject({
      event: "error",
      message: expect.stringContaining("local history unreadable"),
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("inbox: acks that did not fit the outbound queue go out once it drains, with no further ack", async () => {
  const sent: [string, string][][] = [];
  let full = true;
  let drained!: () => void;
  const room = new Promise<void>((r) => drained = r);
  let waits = 0;
  const i = new Inbox({
    acks: new AckBatcher(1),
    emit: () => {},
    sendAcks: (items) => {
      if (full) return false;
      sent.push(items);
      return true;
    },
    ackRoom: () => (waits++, room),
    history: false,
  });
  i.start(session);
  i.push(garbage("msg0000011"));
  i.flushAcks(); // the queue is full: nothing goes out
  i.flushAcks(); // a second failure waits on the same drain
  expect(sent).toEqual([]);
  expect(waits).toBe(1);
  full = false;
  drained();
  await room;
  await Promise.resolve();
  expect(sent).toEqual([[["alice", "msg0000011"]]]);
});

Deno.test("inbox: with no connection, failed acks wait for the reconnect (no retry loop)", () => {
  const i = new Inbox({
    acks: new AckBatcher(1),
    emit: () => {},
    sendAcks: () => false,
    ackRoom: () => null,
    history: false,
  });
  i.start(session);
  i.push(garbage("msg0000012"));
  i.flushAcks();
  // Nothing pending: the op sanitizer fails the test if a retry timer or promise loop were left.
});

Deno.test("inbox: shows XChaCha20-Poly1305 bodies and the AES-256-GCM bodies of earlier versions", async () => {
  const sent: [string, [string, string][]][] = [];
  const events: ClientEvent[] = [];
  const key = aliceKey("kid0000002");
  const now = encryptText(key.key, "new cipher", dmMeta(key.kid, "msg0000010"));
  expect(now.iv.length).toBe(24);
  // A body an earlier version sealed, still held by the server for bob.
  const old = sealMessage(
    key.key,
    utf8Encode("old cipher"),
    messageAadView(dmMeta(key.kid, "msg0000011")),
  );
  expect(old.iv.length).toBe(12);
  const keys = { incomingReady: () => key, incoming: () => Promise.resolve(key) };
  const i = recordingInbox(sent, events);
  i.start({ user: "bob", keys } as unknown as InboxSession);
  i.push(dmFrame(key.kid, "msg0000010", now.iv, now.ct));
  i.push(dmFrame(key.kid, "msg0000011", old.iv, old.ct));
  await i.idle();
  i.flushAcks();
  expect(events.map((e) => "text" in e ? e.text : e.event)).toEqual(["new cipher", "old cipher"]);
  expect(sent).toEqual([["b", [["alice", "msg0000010"], ["alice", "msg0000011"]]]]);
});
