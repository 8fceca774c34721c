import { expect } from "expect";
import { msgpackCodec } from "@fastchat/lib/msgpack_codec";
import { FastChatError } from "@fastchat/lib/errors";
import { hexOf } from "@fastchat/testing/frame_fixtures";
import { decodePeerFrame, encodePeerFrame, type PeerFrame } from "./peer_protocol.ts";

const packr = msgpackCodec({ compactMaps: true });
const hex = hexOf;
const payload = (n: number, fill: number) => new Uint8Array(n).fill(fill);

const FRAMES: PeerFrame[] = [
  {
    t: "batch",
    fwd: [
      ["AAAAAAAAAAAAAAAAAAAAAA", "alice", "bob", payload(250, 1)],
      ["BBBBBBBBBBBBBBBBBBBBBB", "carol", "dave", payload(3000, 2)],
    ],
    ack: [["bob", "alice", "CCCCCCCCCCCCCCCCCCCCCC"]],
    rcpt: [["alice", "bob", "DDDDDDDDDDDDDDDDDDDDDD"]],
    srcpt: [["erin", "bob", "EEEEEEEEEEEEEEEEEEEEEE"]],
  },
  {
    t: "batch",
    gfwd: [["FFFFFFFFFFFFFFFFFFFFFF", "alice", "team", payload(200, 3), ["bob", "carol"]]],
  },
  // Over 256 KiB: msgpackr both ways.
  {
    t: "batch",
    fwd: Array.from(
      { length: 300 },
      (_, i) => [`m-${String(i).padStart(8, "0")}`, "alice", "bob", payload(1000, i & 0xff)],
    ) as [string, string, string, Uint8Array][],
  },
  { t: "presence", seq: 2 ** 40, online: true, users: ["alice", "bob"] },
  { t: "presence_ack", seq: 7 },
  { t: "snapshot", users: [] },
  { t: "ping" },
  { t: "hello", from: "srv-1", to: "srv-2", nonce: payload(16, 4), eph: payload(32, 5) },
];

Deno.test("peer frames: msgpackr's bytes out, the same frames back, flat or not", () => {
  for (const f of FRAMES) {
    const bytes = encodePeerFrame(f);
    expect(hex(bytes)).toBe(hex(packr.pack(f)));
    expect(decodePeerFrame(bytes)).toEqual(packr.unpack(bytes));
  }
});

Deno.test("peer frames: every cut of a flat batch is a typed error, never a partial frame", () => {
  const bytes = encodePeerFrame(FRAMES[0]);
  for (let end = 0; end < bytes.length; end++) {
    let err: unknown;
    try {
      decodePeerFrame(bytes.subarray(0, end));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FastChatError);
    expect(["BAD_FRAME", "BAD_REQUEST"]).toContain((err as FastChatError).code);
  }
  // A declared length far beyond the bytes: refused before anything is allocated.
  const lying = Uint8Array.of(
    0x82,
    0xa1,
    0x74,
    0xa5,
    ...new TextEncoder().encode("batch"),
    0xa3,
    ...new TextEncoder().encode("fwd"),
    0xdc,
    0xff,
    0xff,
  );
  expect(() => decodePeerFrame(lying)).toThrow(FastChatError);
  // Flat, but not a valid frame: the validators still judge it.
  expect(() => decodePeerFrame(packr.pack({ t: "batch", fwd: [["x", "alice"]] }))).toThrow(
    FastChatError,
  );
  expect(() => decodePeerFrame(packr.pack({ t: "nope" }))).toThrow(FastChatError);
});
