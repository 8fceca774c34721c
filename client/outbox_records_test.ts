import { expect } from "expect";
import { msgpackCodec } from "@fastchat/lib/msgpack_codec";
import type { OutboxFrame, OutboxRecord } from "./outbox.ts";
import { OutboxRecordEncoder } from "./outbox_records.ts";

const packr = msgpackCodec();

const send = (id: string, extra: Partial<OutboxFrame> = {}): OutboxFrame => ({
  t: "send",
  id,
  to: "bob",
  kind: "dm",
  ts: 1_733_000_000_123,
  body: Uint8Array.from({ length: 150 }, (_, i) => i),
  ...extra,
});

/** Records the outbox writes, of every size class msgpack distinguishes. */
function batches(): OutboxRecord[][] {
  const sends = (n: number) => Array.from({ length: n }, (_, i) => ({ add: send(`m-${i}`) }));
  return [
    [],
    [{ add: send("m-1") }],
    [{ done: [] }],
    [{ done: ["m-1", "m-2"] }],
    [{ add: send("m-1", { kid: "k".repeat(22), env: new Uint8Array(300) }) }],
    [{ add: send("m-1", { file: "f".repeat(22) }) }],
    [{ add: send("m-1", { to: "#team", kind: "group" }) }],
    [{ add: send("m-1", { ts: 0.5 }) }, { add: send("m-2", { ts: -1 }) }],
    [{ add: send("m-1", { body: new Uint8Array(255) }) }],
    [{ add: send("m-1", { body: new Uint8Array(256) }) }],
    [{ add: send("m-1", { body: new Uint8Array(70_000) }) }], // larger than a flat record
    [...sends(15), { done: ["a"] }],
    [...sends(16)], // a 16-bit array header
    sends(700), // more than one scratch buffer
    [{ done: Array.from({ length: 5000 }, (_, i) => `m-${i}`) }], // over a flat record's size
  ];
}

Deno.test("OutboxRecordEncoder writes exactly msgpackr's bytes, and they read back", () => {
  const enc = new OutboxRecordEncoder();
  for (const records of batches()) {
    const expected = packr.pack(records);
    const got = enc.encode(records);
    expect(got).toEqual(new Uint8Array(expected));
    expect(packr.unpack(got)).toEqual(records);
  }
});

Deno.test("OutboxRecordEncoder: only what is not of the flat shape goes to msgpackr", () => {
  const enc = new OutboxRecordEncoder();
  enc.encode([{ add: send("m-1") }, { done: ["m-0"] }]);
  enc.encode(Array.from({ length: 700 }, (_, i) => ({ add: send(`m-${i}`) })));
  expect(enc.fallbacks).toBe(0);
  // A non-ASCII string, an undefined field, a body past the flat size: msgpackr, same bytes.
  for (
    const odd of [
      send("m-ü"),
      { ...send("m-2"), kid: undefined } as OutboxFrame,
      send("m-3", { body: new Uint8Array(70_000) }),
    ]
  ) {
    expect(enc.encode([{ add: odd }])).toEqual(new Uint8Array(packr.pack([{ add: odd }])));
  }
  expect(enc.fallbacks).toBe(3);
});

Deno.test("OutboxRecordEncoder: a result is a view its next call may overwrite; a copy is not", () => {
  const enc = new OutboxRecordEncoder();
  const first = enc.encode([{ done: ["m-1"] }]);
  const copy = first.slice();
  enc.encode([{ done: ["m-2"] }]);
  expect(packr.unpack(copy)).toEqual([{ done: ["m-1"] }]);
});
