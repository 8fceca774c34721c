import { expect } from "expect";
import { codeOf } from "@fastchat/testing";
import { Packr } from "msgpackr";
import {
  decodeContent,
  encodeContent,
  type FileDescription,
  type MessageContent,
} from "./message_content.ts";

const file: FileDescription = {
  file: "AbCdEfGhIjKlMnOpQrStUv",
  key: new Uint8Array(32).fill(7),
  name: "holiday photo.jpg",
  bytes: 3_000_000,
  chunks: 12,
  sha256: new Uint8Array(32).fill(9),
  mime: "image/jpeg",
};

Deno.test("text, sender keys and files round-trip", () => {
  for (
    const c of [
      { type: "text", text: "hello ✓" },
      { type: "text", text: "" },
      { type: "sender_key", group: "team", kid: "kid-0123456789", key: new Uint8Array(32).fill(1) },
      { type: "file", file },
    ] as const
  ) {
    expect(decodeContent(encodeContent(c))).toEqual(c);
  }
  expect(new TextDecoder().decode(encodeContent({ type: "text", text: "plain" }))).toBe("plain");
});

Deno.test("malformed content is DECRYPT_FAILED, never a half-read record", () => {
  const packr = new Packr({ useRecords: false, mapsAsObjects: true });
  const rec = (v: unknown) => new Uint8Array([0xff, ...packr.pack(v)]);
  expect(codeOf(() => decodeContent(new Uint8Array([0xc3, 0x28])))).toBe("DECRYPT_FAILED");
  expect(codeOf(() => decodeContent(new Uint8Array([0xff])))).toBe("DECRYPT_FAILED");
  expect(codeOf(() => decodeContent(rec({ y: "z" })))).toBe("DECRYPT_FAILED");
  expect(codeOf(() => decodeContent(rec({ y: "f", ...file, bytes: -1 })))).toBe("DECRYPT_FAILED");
  expect(codeOf(() => decodeContent(rec({ y: "f", ...file, key: new Uint8Array(31) })))).toBe(
    "DECRYPT_FAILED",
  );
  expect(codeOf(() => decodeContent(rec({ y: "f", ...file, extra: 1 })))).toBe("DECRYPT_FAILED");
  expect(codeOf(() => decodeContent(rec({ y: "k", group: "Bad Group", kid: "k", key: 1 })))).toBe(
    "DECRYPT_FAILED",
  );
  expect(codeOf(() => decodeContent(rec([[[[1]]]])))).toBe("DECRYPT_FAILED");
  // A declared 4 GiB string in a 10-byte record is refused before allocation.
  expect(codeOf(() => decodeContent(new Uint8Array([0xff, 0xdb, 0xff, 0xff, 0xff, 0xff, 1])))).toBe(
    "DECRYPT_FAILED",
  );
});

Deno.test("a batch of texts round-trips, each with its own time", () => {
  const c: MessageContent = {
    type: "batch",
    items: [{ ts: 1, text: "one" }, { ts: 2, text: "" }, { ts: 3, text: "drei ✓" }],
  };
  expect(decodeContent(encodeContent(c))).toEqual(c);
  const full: MessageContent = {
    type: "batch",
    items: Array.from({ length: 64 }, (_, i) => ({ ts: i, text: "x" })),
  };
  expect(decodeContent(encodeContent(full))).toEqual(full);
});

Deno.test("malformed batches are DECRYPT_FAILED", () => {
  const packr = new Packr({ useRecords: false, mapsAsObjects: true });
  const rec = (v: unknown) => new Uint8Array([0xff, ...packr.pack(v)]);
  const item = [1, "a"];
  for (
    const bad of [
      { y: "b" },
      { y: "b", m: "ab" },
      { y: "b", m: [item] }, // one text is sent as a text, never as a batch
      { y: "b", m: Array.from({ length: 65 }, () => item) },
      { y: "b", m: [item, [1]] },
      { y: "b", m: [item, [1, "a", 2]] },
      { y: "b", m: [item, [-1, "a"]] },
      { y: "b", m: [item, [1.5, "a"]] },
      { y: "b", m: [item, [1, 7]] },
      { y: "b", m: [item, [1, "x".repeat(65_537)]] },
      { y: "b", m: [item, item], extra: 1 },
      { y: "b", m: [item, [1, [[1]]]] },
    ]
  ) {
    expect(codeOf(() => decodeContent(rec(bad)))).toBe("DECRYPT_FAILED");
  }
});
