/**
 * Benchmarks the two AES-256-GCM paths of `aead.ts` on a 100-byte message
 * (a typical chat line): `deno bench lib/crypto/aead_bench.ts`.
 *
 * @module
 */

import {
  generateMessageKeyBytes,
  importMessageKey,
  openMessage,
  openMessageSubtle,
  sealMessage,
  sealMessageSubtle,
} from "./aead.ts";

const key = importMessageKey(generateMessageKeyBytes());
const pt = crypto.getRandomValues(new Uint8Array(100));
const aad = new TextEncoder().encode("fastchat/msg/v1 alice bob m-123 1700000000000 kid");
const sealed = sealMessage(key, pt, aad);
await openMessageSubtle(key, sealed.iv, sealed.ct, aad); // warm the cached CryptoKey

Deno.bench("seal 100 B: node:crypto (sync)", { group: "seal", baseline: true }, () => {
  sealMessage(key, pt, aad);
});

Deno.bench("seal 100 B: crypto.subtle (async)", { group: "seal" }, async () => {
  await sealMessageSubtle(key, pt, aad);
});

Deno.bench("open 100 B: node:crypto (sync)", { group: "open", baseline: true }, () => {
  openMessage(key, sealed.iv, sealed.ct, aad);
});

Deno.bench("open 100 B: crypto.subtle (async)", { group: "open" }, async () => {
  await openMessageSubtle(key, sealed.iv, sealed.ct, aad);
});
