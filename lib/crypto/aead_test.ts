import { expect } from "expect";
import {
  deriveMessageSubkey,
  generateMessageKeyBytes,
  importMessageKey,
  messageSubkey,
  openMessage,
  openMessageSubtle,
  sealMessage,
  sealMessageSubtle,
} from "./aead.ts";
import { codeOf } from "@fastchat/testing/assert_code";

const enc = new TextEncoder();

Deno.test("sealMessage/openMessage round trip, layout and fresh IVs", () => {
  const key = importMessageKey(generateMessageKeyBytes());
  const aad = enc.encode("aad");
  for (const n of [0, 1, 15, 16, 17, 100, 5000]) {
    const pt = crypto.getRandomValues(new Uint8Array(n));
    const { iv, ct } = sealMessage(key, pt, aad);
    expect(iv.length).toBe(12);
    expect(ct.length).toBe(n + 16);
    expect(ct.constructor).toBe(Uint8Array);
    const back = openMessage(key, iv, ct, aad);
    expect(back.constructor).toBe(Uint8Array);
    expect(back).toEqual(pt);
  }
  const a = sealMessage(key, enc.encode("same"), aad);
  const b = sealMessage(key, enc.encode("same"), aad);
  expect(a.iv).not.toEqual(b.iv);
  expect(a.ct).not.toEqual(b.ct);
});

Deno.test("openMessage fails with DECRYPT_FAILED on any tampering", () => {
  const key = importMessageKey(generateMessageKeyBytes());
  const aad = enc.encode("aad");
  const { iv, ct } = sealMessage(key, enc.encode("hello world"), aad);
  for (let i = 0; i < ct.length; i++) {
    const bad = ct.slice();
    bad[i] ^= 0x01;
    expect(codeOf(() => openMessage(key, iv, bad, aad))).toBe("DECRYPT_FAILED");
  }
  for (let i = 0; i < iv.length; i++) {
    const bad = iv.slice();
    bad[i] ^= 0x80;
    expect(codeOf(() => openMessage(key, bad, ct, aad))).toBe("DECRYPT_FAILED");
  }
  const other = importMessageKey(generateMessageKeyBytes());
  expect(codeOf(() => openMessage(other, iv, ct, aad))).toBe("DECRYPT_FAILED");
  expect(codeOf(() => openMessage(key, iv, ct, enc.encode("aae")))).toBe("DECRYPT_FAILED");
  expect(codeOf(() => openMessage(key, iv, ct.subarray(0, ct.length - 1), aad))).toBe(
    "DECRYPT_FAILED",
  );
  expect(codeOf(() => openMessage(key, iv, ct.subarray(0, 15), aad))).toBe("DECRYPT_FAILED");
  expect(codeOf(() => openMessage(key, iv.subarray(0, 11), ct, aad))).toBe("DECRYPT_FAILED");
  expect(codeOf(() => openMessage(key, new Uint8Array(16), ct, aad))).toBe("DECRYPT_FAILED");
});

Deno.test("importMessageKey validates, copies and hides the raw key", () => {
  expect(codeOf(() => importMessageKey(new Uint8Array(16)))).toBe("BAD_REQUEST");
  expect(codeOf(() => importMessageKey(new Uint8Array(33)))).toBe("BAD_REQUEST");
  const raw = generateMessageKeyBytes();
  expect(raw.length).toBe(32);
  const key = importMessageKey(raw);
  const { iv, ct } = sealMessage(key, enc.encode("x"), new Uint8Array(0));
  raw.fill(0); // caller mutation must not affect the key
  expect(openMessage(key, iv, ct, new Uint8Array(0))).toEqual(enc.encode("x"));
  expect(JSON.stringify(key)).toBe('{"algorithm":"AES-256-GCM"}');
  expect(Deno.inspect(key, { showHidden: true })).toBe(
    'OpaqueMessageKey { algorithm: "AES-256-GCM" }',
  );
  const forged = { algorithm: "AES-256-GCM" as const };
  expect(codeOf(() => sealMessage(forged, enc.encode("x"), new Uint8Array(0)))).toBe(
    "BAD_REQUEST",
  );
});

Deno.test("node:crypto and WebCrypto paths interoperate both ways", async () => {
  const key = importMessageKey(generateMessageKeyBytes());
  const aad = enc.encode("fastchat aad");
  for (const n of [0, 1, 100, 4096]) {
    const pt = crypto.getRandomValues(new Uint8Array(n));
    const fast = sealMessage(key, pt, aad);
    expect(await openMessageSubtle(key, fast.iv, fast.ct, aad)).toEqual(pt);
    const slow = await sealMessageSubtle(key, pt, aad);
    expect(slow.iv.length).toBe(12);
    expect(slow.ct.length).toBe(n + 16);
    expect(openMessage(key, slow.iv, slow.ct, aad)).toEqual(pt);
  }
});

Deno.test("openMessageSubtle fails with DECRYPT_FAILED", async () => {
  const key = importMessageKey(generateMessageKeyBytes());
  const aad = enc.encode("aad");
  const { iv, ct } = sealMessage(key, enc.encode("hello"), aad);
  const bad = ct.slice();
  bad[0] ^= 1;
  expect(await codeOf(() => openMessageSubtle(key, iv, bad, aad))).toBe("DECRYPT_FAILED");
  expect(await codeOf(() => openMessageSubtle(key, iv, ct, new Uint8Array(0)))).toBe(
    "DECRYPT_FAILED",
  );
  const other = importMessageKey(generateMessageKeyBytes());
  expect(await codeOf(() => openMessageSubtle(other, iv, ct, aad))).toBe("DECRYPT_FAILED");
  expect(await codeOf(() => openMessageSubtle(key, iv, ct.subarray(0, 10), aad))).toBe(
    "DECRYPT_FAILED",
  );
});

Deno.test("known-answer test against an independent WebCrypto encryption", async () => {
  const raw = generateMessageKeyBytes();
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const aad = enc.encode("kat");
  const pt = enc.encode("known answer");
  const ck = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt"]);
  const ct = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, ck, pt),
  );
  expect(openMessage(importMessageKey(raw), iv, ct, aad)).toEqual(pt);
});

Deno.test("messageSubkey: derived once per key and label, equal to deriveMessageSubkey", () => {
  const key = importMessageKey(generateMessageKeyBytes());
  const a = messageSubkey(key, "a");
  expect(messageSubkey(key, "a")).toBe(a);
  expect(a).toEqual(deriveMessageSubkey(key, "a"));
  const b = messageSubkey(key, "b");
  expect(b).toEqual(deriveMessageSubkey(key, "b"));
  expect(b).not.toEqual(a);
  expect(messageSubkey(key, "a")).toEqual(a);
  const other = importMessageKey(generateMessageKeyBytes());
  expect(messageSubkey(other, "a")).not.toEqual(a);
  const forged = { algorithm: "AES-256-GCM" as const };
  expect(codeOf(() => messageSubkey(forged, "a"))).toBe("BAD_REQUEST");
});
