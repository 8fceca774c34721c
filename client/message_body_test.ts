import { expect } from "expect";
import { msgpackBombs } from "@fastchat/lib/msgpack_bombs";
import { packBody, parseBody } from "./message_body.ts";
import { sealDirectMessage } from "./message_body.ts";
import { decryptText, generateMessageKeyBytes, importMessageKey } from "@fastchat/lib/crypto";
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
