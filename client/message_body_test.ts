import { expect } from "expect";
import { Packr } from "msgpackr";
import { msgpackBombs } from "@fastchat/lib/msgpack_bombs";
import { packBody, parseBody } from "./message_body.ts";
import { sealDirectMessage } from "./message_body.ts";
import { generateMessageKeyBytes, importMessageKey } from "@fastchat/lib/crypto";
import { decryptText } from "@fastchat/lib/crypto/chat_aead";
import { codeOf } from "@fastchat/testing";

const u32 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

Deno.test("parseBody round-trips what packBody writes", () => {
  const iv = new Uint8Array(12).fill(1);
  const c = new Uint8Array(48).fill(2);
  expect(parseBody(packBody("kid-0123456789", iv, c))).toEqual({ k: "kid-0123456789", iv, c });
});

Deno.test("parseBody refuses every MessagePack bomb with DECRYPT_FAILED, before msgpackr allocates", () => {
  // On the decoder of before, the array32 map key (7 bytes) made msgpackr
  // allocate an array of 2^32-1 entries: the client died of out-of-memory.
  for (const [name, bytes] of msgpackBombs()) {
    expect({ name, code: codeOf(() => parseBody(bytes)) }).toEqual({
      name,
      code: "DECRYPT_FAILED",
    });
  }
});

Deno.test("parseBody: lying lengths, nesting, extensions and trailing bytes are DECRYPT_FAILED", () => {
  const good = packBody("kid-0123456789", new Uint8Array(12), new Uint8Array(20));
  const cases: [string, number[]][] = [
    // {"k": str32 of 2^32-1 bytes, 1 present}
    ["str32 key id", [0x81, 0xa1, 0x6b, 0xdb, ...u32(0xffffffff), 0x61]],
    // {"c": bin32 of 2^31 bytes}
    ["bin32 ciphertext", [0x81, 0xa1, 0x63, 0xc6, ...u32(0x80000000), 0x00]],
    // {"c": [[...]]}: a body is a flat map
    ["nested", [0x81, 0xa1, 0x63, 0x91, 0x91, 0x01]],
    // {"c": timestamp extension}
    ["extension", [0x81, 0xa1, 0x63, 0xd6, 0xff, 0, 0, 0, 1]],
    ["trailing byte", [...good, 0xc0]],
    ["truncated", [...good.subarray(0, good.length - 1)]],
    ["not a map", [0x93, 0x01, 0x02, 0x03]],
  ];
  for (const [name, bytes] of cases) {
    expect({ name, code: codeOf(() => parseBody(new Uint8Array(bytes))) }).toEqual({
      name,
      code: "DECRYPT_FAILED",
    });
  }
});

Deno.test("sealDirectMessage: a send frame whose body opens only with its own names, id and time", () => {
  const raw = generateMessageKeyBytes();
  const key = {
    kid: "kid0000001",
    raw,
    key: importMessageKey(raw),
    count: 0,
    created: 0,
    fp: "fp",
    env: new Uint8Array([7, 7]),
  };
  const a = sealDirectMessage("alice", "bob", "hello bob", key);
  const b = sealDirectMessage("alice", "bob", "hello bob", { ...key, env: null });
  expect(a).toMatchObject({ t: "send", to: "bob", kind: "dm", kid: "kid0000001", env: key.env });
  expect(b.kid).toBeUndefined(); // no envelope: the server has it
  expect(b.env).toBeUndefined();
  expect(a.id).not.toBe(b.id);
  const body = parseBody(a.body);
  expect(body.k).toBe("kid0000001");
  const aad = { kind: "dm", from: "alice", to: "bob", id: a.id, sentAt: a.ts, kid: body.k };
  expect(decryptText(key.key, body.iv, body.c, aad)).toBe("hello bob");
  expect(() => decryptText(key.key, body.iv, body.c, { ...aad, from: "mallory" })).toThrow();
  expect(() => decryptText(key.key, body.iv, body.c, { ...aad, id: b.id })).toThrow();
});

Deno.test("packBody writes what msgpackr decodes, for short and long ids and ciphertexts", () => {
  const packr = new Packr({ useRecords: false, mapsAsObjects: true });
  for (const kid of ["kid01234", "k".repeat(31), "k".repeat(32), "k".repeat(64), "kid-é-0123"]) {
    for (const n of [16, 255, 256, 65535, 65536]) {
      const iv = new Uint8Array(12).fill(3);
      const c = new Uint8Array(n).fill(4);
      const b = packBody(kid, iv, c);
      expect(packr.unpack(b)).toEqual({ k: kid, iv, c });
      if (kid.includes("é")) continue; // not an id: written by msgpackr, refused by parseBody
      expect(parseBody(b)).toEqual({ k: kid, iv, c });
      // what msgpackr itself writes (older clients) reads the same
      const old = packr.pack({ k: kid, iv, c });
      expect(parseBody(old)).toEqual({ k: kid, iv, c });
      // both read by the fast path: views into the body, no copies
      expect(parseBody(b).c.buffer).toBe(b.buffer);
      expect(parseBody(old).c.buffer).toBe(old.buffer);
    }
  }
});

Deno.test("parseBody: its fast path agrees with the general decoder on every mutation of a body", () => {
  const packr = new Packr({ useRecords: false, mapsAsObjects: true });
  const general = (b: Uint8Array) => {
    try {
      const v = packr.unpack(b);
      const ok = v && typeof v.k === "string" && /^[A-Za-z0-9_-]{8,64}$/.test(v.k) &&
        v.iv instanceof Uint8Array && v.c instanceof Uint8Array && Object.keys(v).length === 3;
      return ok ? { k: v.k, iv: new Uint8Array(v.iv), c: new Uint8Array(v.c) } : "refused";
    } catch {
      return "refused";
    }
  };
  const ours = (b: Uint8Array) => {
    try {
      const v = parseBody(b);
      return { k: v.k, iv: new Uint8Array(v.iv), c: new Uint8Array(v.c) };
    } catch {
      return "refused";
    }
  };
  const good = packBody("kid-0123456789", new Uint8Array(12).fill(1), new Uint8Array(40).fill(2));
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  for (let i = 0; i < good.length; i++) {
    for (const v of [0x00, 0x7f, 0x80, 0xa1, 0xc4, 0xc5, 0xc6, 0xd9, 0xde, 0xff]) {
      const b = good.slice();
      b[i] = v;
      expect({ i, v, r: ours(b) }).toEqual({ i, v, r: general(b) });
    }
  }
  for (let i = 0; i < 2000; i++) {
    const b = good.slice(0, good.length - rnd(3));
    b[rnd(b.length)] = rnd(256);
    expect(ours(b)).toEqual(general(b));
  }
});
