import { expect } from "expect";
import type { FastChatError } from "@fastchat/lib/errors";
import { ChannelEphemeral, SEAL_OVERHEAD, type SealedFrameCodec } from "./peer_channel.ts";

function pair(): [SealedFrameCodec, SealedFrameCodec] {
  const a = new ChannelEphemeral(), b = new ChannelEphemeral();
  const t = new TextEncoder().encode("transcript");
  return [a.derive(b.publicKey, t, "connector"), b.derive(a.publicKey, t, "acceptor")];
}

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as FastChatError).code;
  }
  return "no error";
};

Deno.test("sealed frames open in order, both directions", () => {
  const [c, a] = pair();
  for (let i = 0; i < 3; i++) {
    const m = new Uint8Array([i, 1, 2, 3]);
    const s = c.seal(m);
    expect(s.length).toBe(m.length + SEAL_OVERHEAD);
    expect(a.open(s)).toEqual(m);
    expect(c.open(a.seal(m))).toEqual(m);
  }
});

Deno.test("an altered, replayed, reordered or foreign frame is PEER_LINK_TAMPERED", () => {
  const [c, a] = pair();
  const f1 = c.seal(new Uint8Array([1])), f2 = c.seal(new Uint8Array([2]));
  const flipped = f1.slice();
  flipped[0] ^= 1;
  expect(code(() => a.open(flipped))).toBe("PEER_LINK_TAMPERED");
  // Once failed, nothing after opens, not even the genuine frame.
  expect(code(() => a.open(f1))).toBe("PEER_LINK_TAMPERED");

  const [c2, a2] = pair();
  const g1 = c2.seal(new Uint8Array([1]));
  a2.open(g1);
  expect(code(() => a2.open(g1))).toBe("PEER_LINK_TAMPERED"); // replay

  const [c3, a3] = pair();
  c3.seal(new Uint8Array([1]));
  expect(code(() => a3.open(c3.seal(new Uint8Array([2]))))).toBe("PEER_LINK_TAMPERED"); // dropped one
  expect(code(() => pair()[1].open(f2))).toBe("PEER_LINK_TAMPERED"); // another link's keys
  expect(code(() => pair()[1].open(new Uint8Array(3)))).toBe("PEER_LINK_TAMPERED"); // short
});

Deno.test("small frames (libsodium) and large ones (node:crypto) share one counter and one cipher", () => {
  const [c, a] = pair();
  // Around the 4 KiB switch-over, interleaved: each side's counter moves with every frame.
  for (const n of [0, 100, 4096, 4097, 60_000, 5, 4095, 9000, 1]) {
    const m = crypto.getRandomValues(new Uint8Array(n));
    const s = c.seal(m);
    expect(s.length).toBe(n + SEAL_OVERHEAD);
    expect(a.open(s)).toEqual(m);
  }
  // A large frame altered in transit fails like a small one, and nothing opens after it.
  const big = c.seal(new Uint8Array(10_000));
  const bad = big.slice();
  bad[5000] ^= 1;
  expect(code(() => a.open(bad))).toBe("PEER_LINK_TAMPERED");
  expect(code(() => a.open(big))).toBe("PEER_LINK_TAMPERED");
});

Deno.test("a frame sealed for one direction does not open in the other", () => {
  const [c, a] = pair();
  expect(code(() => c.open(c.seal(new Uint8Array([1]))))).toBe("PEER_LINK_TAMPERED");
  expect(code(() => a.open(a.seal(new Uint8Array([1]))))).toBe("PEER_LINK_TAMPERED");
});

Deno.test("a bad or low-order ephemeral key is refused", () => {
  const e = new ChannelEphemeral();
  expect(code(() => e.derive(new Uint8Array(31), new Uint8Array(1), "acceptor"))).toBe(
    "BAD_REQUEST",
  );
  expect(code(() => e.derive(new Uint8Array(32), new Uint8Array(1), "acceptor"))).toBe(
    "BAD_REQUEST",
  );
});
