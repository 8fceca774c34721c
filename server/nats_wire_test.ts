/** NATS subjects of the fabric, and fragments with bounded reassembly. */
import { expect } from "expect";
import { assertCode } from "@fastchat/testing";
import { fragment, NatsSubjects, Reassembly } from "./nats_wire.ts";

Deno.test("NatsSubjects: per-server subjects; the sender is the subject's token", () => {
  const s = new NatsSubjects("blue", "srv-1");
  expect(s.heartbeat).toBe("fastchat.blue.hb.srv-1");
  expect(s.to("srv-2")).toBe("fastchat.blue.srv.srv-2.srv-1");
  expect(s.fragmentsTo("srv-2")).toBe("fastchat.blue.frag.srv-2.srv-1");
  expect(s.helloTo("srv-2")).toBe("fastchat.blue.hello.srv-1.srv-2");
  expect(s.pingTo("srv-2")).toBe("fastchat.blue.ping.srv-2");
  expect(s.listen).toEqual({
    heartbeat: "fastchat.blue.hb.*",
    bye: "fastchat.blue.bye.*",
    presence: "fastchat.blue.presence.*",
    hello: "fastchat.blue.hello.*.srv-1",
    ping: "fastchat.blue.ping.srv-1",
    direct: "fastchat.blue.srv.srv-1.*",
    fragment: "fastchat.blue.frag.srv-1.*",
  });
  expect(s.sender("fastchat.blue.srv.srv-1.srv-2")).toBe("srv-2");
  expect(s.sender("fastchat.blue.hello.srv-3.srv-1")).toBe("srv-3");
  expect(s.sender("fastchat.blue.hb.srv-1")).toBeNull(); // our own
  expect(s.sender("fastchat.blue.hb.a b")).toBeNull();
  assertCode(() => new NatsSubjects("blue", "srv.1"), "INVALID_CONFIG");
  assertCode(() => new NatsSubjects("*", "srv-1"), "INVALID_CONFIG");
});

Deno.test("fragments: split to the limit, reassembled whole and in order", () => {
  const frame = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
  const parts = fragment(frame, 108);
  expect(parts.length).toBe(10);
  expect(parts.every((p) => p.length <= 108)).toBe(true);
  const r = new Reassembly({ maxBytes: 4096, maxFragments: 16 });
  const got = parts.map((p) => r.add("srv-2", p));
  expect(got.slice(0, -1).every((x) => x === null)).toBe(true);
  expect(got.at(-1)).toEqual(frame);
  // Two senders interleave without mixing.
  const other = fragment(new Uint8Array(300).fill(9), 108);
  expect(r.add("srv-2", parts[0])).toBeNull();
  expect(r.add("srv-3", other[0])).toBeNull();
  for (const p of parts.slice(1, -1)) r.add("srv-2", p);
  expect(r.add("srv-3", other[1])).toBeNull();
  expect(r.add("srv-3", other[2])).toEqual(new Uint8Array(300).fill(9));
  expect(r.add("srv-2", parts.at(-1)!)).toEqual(frame);
});

Deno.test("fragments: gaps, lies and oversize frames are refused, and forgotten", () => {
  const r = new Reassembly({ maxBytes: 500, maxFragments: 8 });
  const parts = fragment(new Uint8Array(400), 108); // 4 fragments
  assertCode(() => r.add("srv-2", parts[1]), "BAD_FRAME"); // no start
  r.add("srv-2", parts[0]);
  assertCode(() => r.add("srv-2", parts[2]), "BAD_FRAME"); // a gap
  assertCode(() => r.add("srv-2", parts[1]), "BAD_FRAME"); // the gap discarded the frame
  assertCode(() => r.add("srv-2", new Uint8Array(8)), "BAD_FRAME"); // header only
  const header = (i: number, n: number) => {
    const f = new Uint8Array(12);
    new DataView(f.buffer).setUint32(0, i);
    new DataView(f.buffer).setUint32(4, n);
    return f;
  };
  assertCode(() => r.add("srv-2", header(0, 9)), "BAD_FRAME"); // over maxFragments
  assertCode(() => r.add("srv-2", header(0, 1)), "BAD_FRAME"); // one fragment is no fragment
  assertCode(() => r.add("srv-2", header(3, 2)), "BAD_FRAME"); // index past count
  const big = fragment(new Uint8Array(600), 208); // 3 × 200 bytes > maxBytes 500
  r.add("srv-2", big[0]);
  r.add("srv-2", big[1]);
  assertCode(() => r.add("srv-2", big[2]), "BAD_FRAME");
  // At most 16 senders mid-frame.
  const wide = new Reassembly({ maxBytes: 500, maxFragments: 8 });
  for (let i = 0; i < 16; i++) wide.add(`s${i}`, parts[0]);
  assertCode(() => wide.add("s16", parts[0]), "BAD_FRAME");
  wide.forget("s0");
  expect(wide.add("s16", parts[0])).toBeNull();
});
