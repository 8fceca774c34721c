import { expect } from "expect";
import { generateMessageKeyBytes, importMessageKey, sealMessage } from "./aead.ts";
import { decryptText, encryptText, messageAad, type MessageAadFields } from "./dm_cipher.ts";
import { codeOf } from "@fastchat/testing/assert_code";

const key = importMessageKey(generateMessageKeyBytes());
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
    const { iv, ct } = encryptText(key, text, meta);
    expect(decryptText(key, iv, ct, meta)).toBe(text);
  }
});

Deno.test("flipping any byte of ct or iv fails", () => {
  const { iv, ct } = encryptText(key, "attack at dawn", meta);
  for (let i = 0; i < ct.length; i++) {
    const bad = ct.slice();
    bad[i] ^= 0x20;
    expect(codeOf(() => decryptText(key, iv, bad, meta))).toBe("DECRYPT_FAILED");
  }
  for (let i = 0; i < iv.length; i++) {
    const bad = iv.slice();
    bad[i] ^= 0x20;
    expect(codeOf(() => decryptText(key, bad, ct, meta))).toBe("DECRYPT_FAILED");
  }
});

Deno.test("changing any AAD field fails", () => {
  const { iv, ct } = encryptText(key, "hello", meta);
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
    expect(codeOf(() => decryptText(key, iv, ct, { ...meta, ...c }))).toBe("DECRYPT_FAILED");
  }
  expect(codeOf(() => decryptText(key, iv, ct, { ...meta, sentAt: -1 }))).toBe("DECRYPT_FAILED");
});

Deno.test("wrong key fails", () => {
  const { iv, ct } = encryptText(key, "hello", meta);
  const other = importMessageKey(generateMessageKeyBytes());
  expect(codeOf(() => decryptText(other, iv, ct, meta))).toBe("DECRYPT_FAILED");
});

Deno.test("authentic but invalid UTF-8 fails with DECRYPT_FAILED", () => {
  const { iv, ct } = sealMessage(key, new Uint8Array([0x68, 0xff, 0x69]), messageAad(meta));
  expect(codeOf(() => decryptText(key, iv, ct, meta))).toBe("DECRYPT_FAILED");
});

Deno.test("messageAad is canonical and field-boundary safe", () => {
  expect(messageAad(meta)).toEqual(messageAad({ ...meta }));
  const a = messageAad({ ...meta, from: "ab", to: "c" });
  const b = messageAad({ ...meta, from: "a", to: "bc" });
  expect(a).not.toEqual(b);
  const text = new TextDecoder().decode(messageAad(meta));
  expect(text).toContain("fastchat/msg/v1");
  expect(codeOf(() => messageAad({ ...meta, sentAt: 1.5 }))).toBe("BAD_REQUEST");
});
