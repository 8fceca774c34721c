import { expect } from "expect";
import { FastChatError } from "@fastchat/lib/errors";
import { checkLbPublicKey, isSmallOrderEd25519Key } from "./lb_public_key.ts";

const hex = (s: string) => new Uint8Array(s.match(/../g)!.map((h) => parseInt(h, 16)));
const FF = "ff".repeat(30);
const smallOrder = [
  "00".repeat(32),
  "01" + "00".repeat(31),
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "ec" + FF + "7f",
  "ed" + FF + "7f",
  "ee" + FF + "7f",
].map(hex);

Deno.test("small-order keys really admit forgeries under WebCrypto (why we refuse them)", async () => {
  // signature (R = small-order point, S = 0) verifies for many messages
  const key = await crypto.subtle.importKey("raw", smallOrder[1], "Ed25519", false, ["verify"]);
  const sig = new Uint8Array(64);
  sig.set(smallOrder[1]);
  expect(await crypto.subtle.verify("Ed25519", key, sig, new Uint8Array([1, 2, 3]))).toBe(true);
});

Deno.test("isSmallOrderEd25519Key flags small-order points, with or without the sign bit", () => {
  for (const k of smallOrder) {
    expect(isSmallOrderEd25519Key(k)).toBe(true);
    const signed = k.slice();
    signed[31] |= 0x80;
    expect(isSmallOrderEd25519Key(signed)).toBe(true);
  }
  expect(isSmallOrderEd25519Key(crypto.getRandomValues(new Uint8Array(32)))).toBe(false);
  expect(isSmallOrderEd25519Key(new Uint8Array(31))).toBe(false);
});

Deno.test("checkLbPublicKey returns a copy of a good key, INVALID_CONFIG otherwise", async () => {
  const kp = await crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"]) as CryptoKeyPair;
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", kp.publicKey));
  const copy = checkLbPublicKey(raw);
  expect(copy).toEqual(raw);
  expect(copy).not.toBe(raw);
  for (const bad of [new Uint8Array(31), new Uint8Array(33), ...smallOrder]) {
    expect(() => checkLbPublicKey(bad)).toThrow(FastChatError);
  }
  expect(() => checkLbPublicKey("x" as unknown as Uint8Array)).toThrow(FastChatError);
});
