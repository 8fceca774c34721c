import { expect } from "expect";
import { hkdfSync } from "node:crypto";
import sodium from "libsodium-wrappers";
import { generateMessageKeyBytes, importMessageKey, openMessage, sealMessage } from "./aead.ts";
import {
  CHAT_NONCE_BYTES,
  decryptText,
  encryptText,
  openChatMessage,
  sealChatMessage,
} from "./chat_aead.ts";
import { messageAad, type MessageAadFields } from "./message_aad.ts";
import { codeOf } from "@fastchat/testing/assert_code";

const enc = new TextEncoder();
const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16)));

Deno.test("libsodium's XChaCha20-Poly1305 gives the test vector of draft-irtf-cfrg-xchacha (A.3.1)", () => {
  const key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  const nonce = hex("404142434445464748494a4b4c4d4e4f5051525354555657");
  const aad = hex("50515253c0c1c2c3c4c5c6c7");
  const pt = enc.encode(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  );
  const ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(pt, aad, null, nonce, key);
  expect(sodium.to_hex(ct)).toBe(
    "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52ec0875924c1c7987947deafd8780acf49",
  );
});

Deno.test("sealChatMessage: XChaCha20-Poly1305 under the key's HKDF-SHA-256 subkey, fresh nonces", () => {
  const raw = generateMessageKeyBytes();
  const key = importMessageKey(raw);
  const aad = enc.encode("aad");
  const subkey = new Uint8Array(
    hkdfSync("sha256", raw, new Uint8Array(0), "fastchat chat message xchacha20poly1305 v1", 32),
  );
  for (const n of [0, 1, 16, 100, 5000]) {
    const pt = crypto.getRandomValues(new Uint8Array(n));
    const { iv, ct } = sealChatMessage(key, pt, aad);
    expect(iv.length).toBe(CHAT_NONCE_BYTES);
    expect(ct.length).toBe(n + 16);
    // Exactly the primitive under the derived subkey, not under the raw key.
    expect(sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ct, aad, iv, subkey)).toEqual(
      pt,
    );
    expect(() => sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ct, aad, iv, raw))
      .toThrow();
    expect(openChatMessage(key, iv, ct, aad)).toEqual(pt);
  }
  const a = sealChatMessage(key, enc.encode("same"), aad);
  const b = sealChatMessage(key, enc.encode("same"), aad);
  expect(a.iv).not.toEqual(b.iv);
  expect(a.ct).not.toEqual(b.ct);
});

Deno.test("openChatMessage reads AES-256-GCM bodies of earlier versions", () => {
  const key = importMessageKey(generateMessageKeyBytes());
  const aad = enc.encode("aad");
  const old = sealMessage(key, enc.encode("from before"), aad);
  expect(new TextDecoder().decode(openChatMessage(key, old.iv, old.ct, aad))).toBe("from before");
});

Deno.test("openChatMessage: DECRYPT_FAILED on tampering, wrong key or AAD, and a changed nonce length", () => {
  const key = importMessageKey(generateMessageKeyBytes());
  const aad = enc.encode("aad");
  const { iv, ct } = sealChatMessage(key, enc.encode("hello world"), aad);
  for (let i = 0; i < ct.length; i++) {
    const bad = ct.slice();
    bad[i] ^= 0x01;
    expect(codeOf(() => openChatMessage(key, iv, bad, aad))).toBe("DECRYPT_FAILED");
  }
  for (let i = 0; i < iv.length; i++) {
    const bad = iv.slice();
    bad[i] ^= 0x80;
    expect(codeOf(() => openChatMessage(key, bad, ct, aad))).toBe("DECRYPT_FAILED");
  }
  const other = importMessageKey(generateMessageKeyBytes());
  expect(codeOf(() => openChatMessage(other, iv, ct, aad))).toBe("DECRYPT_FAILED");
  expect(codeOf(() => openChatMessage(key, iv, ct, enc.encode("aae")))).toBe("DECRYPT_FAILED");
  // Read as the other cipher (its first 12 nonce bytes), or under any other nonce length.
  expect(codeOf(() => openChatMessage(key, iv.subarray(0, 12), ct, aad))).toBe("DECRYPT_FAILED");
  for (const n of [0, 11, 13, 23, 25, 32]) {
    expect(codeOf(() => openChatMessage(key, new Uint8Array(n), ct, aad))).toBe("DECRYPT_FAILED");
  }
  expect(codeOf(() => openChatMessage(key, iv, ct.subarray(0, 15), aad))).toBe("DECRYPT_FAILED");
  // An AES-GCM body stretched to a 24-byte nonce is no XChaCha body either.
  const gcm = sealMessage(key, enc.encode("x"), aad);
  const stretched = new Uint8Array(24);
  stretched.set(gcm.iv);
  expect(codeOf(() => openChatMessage(key, stretched, gcm.ct, aad))).toBe("DECRYPT_FAILED");
  expect(codeOf(() => openMessage(key, iv, ct, aad))).toBe("DECRYPT_FAILED");
});

const textKey = importMessageKey(generateMessageKeyBytes());
const meta: MessageAadFields = {
  kind: "dm",
  from: "alice",
  to: "bob",
  id: "msg-1",
  sentAt: 1_700_000_000_000,
  kid: "AAAAAAAAAAAAAAAAAAAAAA",
};

Deno.test("encryptText/decryptText round trip", () => {
  for (const text of ["", "hi", "héllo 👋 \u0000 مرحبا", "x".repeat(10_000)]) {
    const { iv, ct } = encryptText(textKey, text, meta);
    expect(decryptText(textKey, iv, ct, meta)).toBe(text);
  }
});

Deno.test("flipping any byte of ct or iv fails", () => {
  const { iv, ct } = encryptText(textKey, "attack at dawn", meta);
  for (let i = 0; i < ct.length; i++) {
    const bad = ct.slice();
    bad[i] ^= 0x20;
    expect(codeOf(() => decryptText(textKey, iv, bad, meta))).toBe("DECRYPT_FAILED");
  }
  for (let i = 0; i < iv.length; i++) {
    const bad = iv.slice();
    bad[i] ^= 0x20;
    expect(codeOf(() => decryptText(textKey, bad, ct, meta))).toBe("DECRYPT_FAILED");
  }
});

Deno.test("changing any AAD field fails", () => {
  const { iv, ct } = encryptText(textKey, "hello", meta);
  const changes: Partial<MessageAadFields>[] = [
    { kind: "group" },
    { from: "mallory" },
    { to: "carol" },
    { from: "bob", to: "alice" },
    { id: "msg-2" },
    { sentAt: meta.sentAt + 1 },
    { kid: "AAAAAAAAAAAAAAAAAAAAAB" },
  ];
  for (const c of changes) {
    expect(codeOf(() => decryptText(textKey, iv, ct, { ...meta, ...c }))).toBe("DECRYPT_FAILED");
  }
  expect(codeOf(() => decryptText(textKey, iv, ct, { ...meta, sentAt: -1 }))).toBe(
    "DECRYPT_FAILED",
  );
});

Deno.test("wrong key fails", () => {
  const { iv, ct } = encryptText(textKey, "hello", meta);
  const other = importMessageKey(generateMessageKeyBytes());
  expect(codeOf(() => decryptText(other, iv, ct, meta))).toBe("DECRYPT_FAILED");
});

Deno.test("authentic but invalid UTF-8 fails with DECRYPT_FAILED", () => {
  const { iv, ct } = sealMessage(textKey, new Uint8Array([0x68, 0xff, 0x69]), messageAad(meta));
  expect(codeOf(() => decryptText(textKey, iv, ct, meta))).toBe("DECRYPT_FAILED");
});

// The servers load it for their peer links' small frames (server/peer_channel.ts: 2.8 against
// 26 µs per frame through node:crypto, for ~8 MiB of RSS per server).
Deno.test("libsodium stays out of the load balancer and @fastchat/lib/crypto; clients and servers load it", async () => {
  const loads = async (entry: string) => {
    const url = new URL(`../../${entry}`, import.meta.url);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", url.pathname],
      stdout: "piped",
      stderr: "piped",
    }).output();
    expect(out.code).toBe(0);
    const { modules } = JSON.parse(new TextDecoder().decode(out.stdout));
    expect(modules.length).toBeGreaterThan(5);
    return modules.some((m: unknown) => JSON.stringify(m).includes("libsodium"));
  };
  expect(await loads("server/main.ts")).toBe(true);
  expect(await loads("lb/main.ts")).toBe(false);
  expect(await loads("lib/crypto/mod.ts")).toBe(false);
  expect(await loads("client/main.ts")).toBe(true);
});
