import { expect } from "expect";
import { msgpackBombs } from "../msgpack_bombs.ts";
import { toBase64Url, toHex } from "./bytes.ts";
import {
  decodeEnvelope,
  encKeyFingerprint,
  encodeEnvelope,
  ENVELOPE_VERSION,
  type EnvelopeFields,
  envelopeSignedBytes,
  peekEnvelope,
  spkiFingerprint,
} from "./session_envelope.ts";
import { codeOf } from "@fastchat/testing/assert_code";

function sample(over: Partial<EnvelopeFields> = {}): EnvelopeFields {
  return {
    version: ENVELOPE_VERSION,
    kid: toBase64Url(crypto.getRandomValues(new Uint8Array(16))),
    sender: "alice",
    recipient: "bob",
    createdAt: 1_700_000_000_000,
    recipientKeyFingerprint: crypto.getRandomValues(new Uint8Array(32)),
    wrapped: crypto.getRandomValues(new Uint8Array(256)),
    signature: crypto.getRandomValues(new Uint8Array(64)),
    ...over,
  };
}

Deno.test("encode/decode round trip and peek", () => {
  const f = sample();
  const bytes = encodeEnvelope(f);
  expect(decodeEnvelope(bytes)).toEqual(f);
  expect(peekEnvelope(bytes)).toEqual({
    kid: f.kid,
    sender: "alice",
    recipient: "bob",
    createdAt: 1_700_000_000_000,
    recipientKeyFingerprint: toHex(f.recipientKeyFingerprint),
  });
});

Deno.test("signed bytes cover every field except the signature", () => {
  const f = sample();
  const base = toHex(envelopeSignedBytes(f));
  const resigned: EnvelopeFields = { ...f, signature: new Uint8Array(64) };
  expect(toHex(envelopeSignedBytes(resigned))).toBe(base);
  const variants: Partial<EnvelopeFields>[] = [
    { kid: toBase64Url(new Uint8Array(16)) },
    { sender: "alicf" },
    { recipient: "bob2" },
    { createdAt: f.createdAt + 1 },
    { recipientKeyFingerprint: new Uint8Array(32) },
    { wrapped: f.wrapped.subarray(1) },
    { version: 2 },
  ];
  for (const v of variants) {
    expect(toHex(envelopeSignedBytes({ ...f, ...v }))).not.toBe(base);
  }
});

Deno.test("decodeEnvelope rejects malformed envelopes with BAD_REQUEST", () => {
  const good = encodeEnvelope(sample());
  const cases: Uint8Array[] = [
    new Uint8Array(0),
    good.subarray(0, good.length - 1),
    Uint8Array.of(...good, 0),
    Uint8Array.of(2, ...good.subarray(1)),
    encodeEnvelope(sample({ kid: "short" })),
    encodeEnvelope(sample({ sender: "" })),
    encodeEnvelope(sample({ recipient: "" })),
    encodeEnvelope(sample({ recipientKeyFingerprint: new Uint8Array(31) })),
    encodeEnvelope(sample({ wrapped: new Uint8Array(0) })),
    encodeEnvelope(sample({ signature: new Uint8Array(63) })),
  ];
  for (const c of cases) {
    expect(codeOf(() => decodeEnvelope(c))).toBe("BAD_REQUEST");
    expect(codeOf(() => peekEnvelope(c))).toBe("BAD_REQUEST");
  }
});

Deno.test("fingerprints are SHA-256 of the SPKI", async () => {
  const spki = crypto.getRandomValues(new Uint8Array(294));
  const expected = new Uint8Array(await crypto.subtle.digest("SHA-256", spki));
  expect(spkiFingerprint(spki)).toEqual(expected);
  expect(encKeyFingerprint(spki)).toBe(toHex(expected));
});

Deno.test("decodeEnvelope: every length field rewritten, every truncation and every bomb is BAD_REQUEST", () => {
  const good = encodeEnvelope(sample());
  // Offsets of the u16 length fields: kid, sender, recipient, (u64), fingerprint, wrapped, signature.
  const lengths: number[] = [];
  let at = 1;
  for (const skip of [0, 0, 0, 8, 0, 0, 0]) {
    at += skip;
    if (skip) continue;
    lengths.push(at);
    at += 2 + ((good[at] << 8) | good[at + 1]);
  }
  expect(at).toBe(good.length);
  for (const off of lengths) {
    for (const n of [0xffff, 0x8000, good.length]) {
      const b = good.slice();
      b[off] = n >> 8;
      b[off + 1] = n & 0xff;
      expect({ off, n, code: codeOf(() => decodeEnvelope(b)) }).toEqual({
        off,
        n,
        code: "BAD_REQUEST",
      });
    }
  }
  for (let cut = 0; cut < good.length; cut++) {
    expect(codeOf(() => decodeEnvelope(good.subarray(0, cut)))).toBe("BAD_REQUEST");
  }
  for (const [name, bomb] of msgpackBombs()) {
    expect({ name, code: codeOf(() => decodeEnvelope(bomb)) }).toEqual({
      name,
      code: "BAD_REQUEST",
    });
  }
});
