import { expect } from "expect";
import { Packr } from "msgpackr";
import { msgpackCodec } from "./msgpack_codec.ts";

const value = { t: "send", id: "m-00000001", body: new Uint8Array([1, 2, 3]), ts: 2 ** 40 };

Deno.test("msgpackCodec writes the bytes of the options it replaced, byte for byte", () => {
  const stored = new Packr({ useRecords: false, mapsAsObjects: true });
  const wire = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true });
  expect(msgpackCodec().pack(value)).toEqual(stored.pack(value));
  expect(msgpackCodec({ compactMaps: true }).pack(value)).toEqual(wire.pack(value));
});

Deno.test("msgpackCodec: plain objects both ways, compact map headers only when asked", () => {
  const compact = msgpackCodec({ compactMaps: true }).pack({ a: 1 });
  const fixed = msgpackCodec().pack({ a: 1 });
  expect(compact[0]).toBe(0x81); // fixmap, 1 key
  expect(fixed[0]).toBe(0xde); // map16
  for (const bytes of [compact, fixed]) {
    const back = msgpackCodec().unpack(bytes);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(back).toEqual({ a: 1 });
  }
  // no records extension (0xd4 0x72 …): another MessagePack library can read it
  const rows = msgpackCodec().pack([{ x: 1 }, { x: 2 }]);
  expect(rows.includes(0x72)).toBe(false);
});
