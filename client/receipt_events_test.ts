import { expect } from "expect";
import type { ClientEvent } from "./events.ts";
import type { OutboxFrame } from "./outbox.ts";
import { ReceiptEvents } from "./receipt_events.ts";

const FIRST = "AAAAAAAAAAAAAAAAAAAAAA";

function setup(saved: string[] = []) {
  const events: ClientEvent[] = [];
  const racks: [string, string][][] = [];
  const envelopes: string[] = [];
  const handovers = new Set(saved);
  let changes = 0;
  const r = new ReceiptEvents({
    emit: (e) => events.push(e),
    ackStored: (items) => racks.push(items),
    envelopeStored: (to, kid) => envelopes.push(`${to}/${kid}`),
    handovers: {
      noteHandover: (id) => void handovers.add(id),
      takeHandover: (id) => handovers.delete(id),
    },
    onChange: () => changes++,
  });
  return { r, events, racks, envelopes, handovers, changes: () => changes };
}

const frame = (id: string, extra: Partial<OutboxFrame> = {}): OutboxFrame => ({
  t: "send",
  id,
  to: "bob",
  kind: "dm",
  ts: 1,
  body: new Uint8Array([1]),
  ...extra,
});

Deno.test("ReceiptEvents: a batch frame's confirmation and receipt are one event per text", () => {
  const { r, events, racks } = setup();
  r.confirmed(frame(`${FIRST}-3`));
  r.show([{ id: `${FIRST}-3`, to: "bob", stored: false, show: true }]);
  expect(events).toEqual([
    { event: "sent", id: FIRST, to: "bob" },
    { event: "sent", id: `${FIRST}_1`, to: "bob" },
    { event: "sent", id: `${FIRST}_2`, to: "bob" },
    { event: "delivered", id: FIRST, to: "bob" },
    { event: "delivered", id: `${FIRST}_1`, to: "bob" },
    { event: "delivered", id: `${FIRST}_2`, to: "bob" },
  ]);
  expect(racks).toEqual([]); // not stored: nothing to acknowledge
});

Deno.test("ReceiptEvents: a receipt that confirms a pending message shows sent, then delivered", () => {
  const { r, events, envelopes } = setup();
  const pending = frame("m-00000001", { kid: "kid-1", env: new Uint8Array([9]) });
  r.show([{ id: "m-00000001", to: "bob", confirmed: pending, stored: false, show: true }]);
  expect(events).toEqual([
    { event: "sent", id: "m-00000001", to: "bob" },
    { event: "delivered", id: "m-00000001", to: "bob" },
  ]);
  expect(envelopes).toEqual(["bob/kid-1"]); // the server has the envelope now
});

Deno.test("ReceiptEvents: stored receipts are acknowledged, also repeats not shown again, in racks of 4096", () => {
  const { r, events, racks } = setup();
  const many = Array.from({ length: 5000 }, (_, i) => ({
    id: `m-${String(i).padStart(8, "0")}`,
    to: "carol",
    stored: true,
    show: i % 2 === 0,
  }));
  r.show(many);
  expect(events).toHaveLength(2500);
  expect(racks.map((x) => x.length)).toEqual([4096, 904]);
  expect(racks[0][0]).toEqual(["carol", "m-00000000"]);
  expect(racks[1].at(-1)).toEqual(["carol", "m-00004999"]);
});

Deno.test("ReceiptEvents: the client's own messages show no events; a handover's receipt is taken, in this session or a later one", () => {
  const { r, events, racks, handovers, changes } = setup(["m-handover-old"]);
  r.markInternal("m-handover-1");
  expect(handovers.has("m-handover-1")).toBe(true);
  expect(changes()).toBe(1);
  r.confirmed(frame("m-handover-1"));
  r.show([
    { id: "m-handover-1", to: "bob", stored: true, show: true },
    // sent in an earlier session: known only from the saved handovers
    { id: "m-handover-old", to: "dave", stored: true, show: true },
  ]);
  expect(events).toEqual([]);
  expect(handovers.size).toBe(0);
  expect(changes()).toBe(3);
  expect(racks).toEqual([[["bob", "m-handover-1"], ["dave", "m-handover-old"]]]);
  // Its receipt repeated (taken already): still internal, still no event.
  r.show([{ id: "m-handover-1", to: "bob", stored: false, show: true }]);
  expect(events).toEqual([]);
});

Deno.test("ReceiptEvents: internal ids are bounded; the oldest is forgotten first", () => {
  const { r, events } = setup();
  for (let i = 0; i <= 10_000; i++) r.markInternal(`h-${i}`);
  r.confirmed(frame("h-0")); // forgotten: shown like any message
  r.confirmed(frame("h-10000"));
  expect(events).toEqual([{ event: "sent", id: "h-0", to: "bob" }]);
});
