import { expect } from "expect";
import { generateMessageKeyBytes, importMessageKey } from "@fastchat/lib/crypto";
import type { ClientFrame } from "@fastchat/lib/protocol";
import type { ClientEvent } from "./events.ts";
import type { OutgoingKey } from "./key_manager.ts";
import { batchMembers } from "./message_batch.ts";
import { Outbox } from "./outbox.ts";
import { OutgoingMessages, type SendingSession } from "./outgoing_messages.ts";

function outgoingKey(): OutgoingKey {
  const raw = generateMessageKeyBytes();
  return {
    kid: "kid-0123456789",
    raw,
    key: importMessageKey(raw),
    count: 0,
    created: 0,
    fp: "fp",
    env: null,
  };
}

function setup(opts: { loggedIn?: boolean; keyReady?: boolean; maxPending?: number } = {}) {
  const key = outgoingKey();
  const wire: ClientFrame[] = [];
  const internal: string[] = [];
  const events: ClientEvent[] = [];
  const link = { writableNow: true, waits: 0 };
  const keys = {
    outgoingReady: () => opts.keyReady === false ? null : key,
    outgoing: () => Promise.resolve(key),
  };
  const session = { user: "alice", keys } as unknown as SendingSession;
  const outbox = new Outbox({ maxPending: opts.maxPending ?? 100 });
  const out = new OutgoingMessages({
    outbox,
    link: {
      send: (f) => wire.push(f),
      get isWritable() {
        return link.writableNow;
      },
      writable: () => (link.waits++, Promise.resolve()),
    },
    session: () => opts.loggedIn === false ? null : session,
    markInternal: (id) => internal.push(id),
    history: false,
    emit: (e) => events.push(e),
  });
  return { out, outbox, wire, internal, events, link };
}

Deno.test("OutgoingMessages.trySend: texts of a tick to one contact leave as one frame, outbox first", async () => {
  const { out, outbox, wire } = setup();
  const a = out.trySend("bob", "one");
  const b = out.trySend("bob", "two");
  expect(a).not.toBeNull();
  expect(out.frames).toBe(1);
  expect(wire).toEqual([]); // sealed when the tick ends
  await Promise.resolve();
  expect(wire.length).toBe(1);
  const frame = wire[0] as ClientFrame & { id: string; to: string };
  expect(frame.to).toBe("bob");
  expect(batchMembers(frame.id)).toEqual([a, b]);
  expect(outbox.size).toBe(1); // pending until the server confirms it
});

Deno.test("OutgoingMessages.trySend: null (nothing sent) when it cannot go out at once", () => {
  expect(setup({ loggedIn: false }).out.trySend("bob", "x")).toBeNull();
  expect(setup({ keyReady: false }).out.trySend("bob", "x")).toBeNull();
  expect(setup().out.trySend("#team", "x")).toBeNull(); // groups take the async path
  const busy = setup();
  busy.link.writableNow = false;
  expect(busy.out.trySend("bob", "x")).toBeNull();
  const full = setup({ maxPending: 1 });
  expect(full.out.trySend("bob", "x")).not.toBeNull();
  expect(full.out.trySend("carol", "y")).toBeNull(); // the open frame counts against the outbox
  expect(() => setup().out.trySend("bad name!", "x")).toThrow();
});

Deno.test("OutgoingMessages.sendDirect: queued after this tick's texts; internal messages are marked; not logged in is NOT_AUTHENTICATED", async () => {
  const { out, wire, internal, link } = setup();
  const text = out.trySend("bob", "first");
  link.writableNow = false; // the link is full: queue waits for room once
  const id = await out.sendDirect("bob", new Uint8Array([1, 2, 3]), null, undefined, true);
  expect(wire.map((f) => (f as { id: string }).id)).toEqual([text, id]);
  expect(internal).toEqual([id]);
  expect(link.waits).toBe(1);
  await expect(
    setup({ loggedIn: false }).out.sendDirect("bob", new Uint8Array(1), null),
  ).rejects.toMatchObject({ code: "NOT_AUTHENTICATED" });
});
