/**
 * The chat messages' cipher against the AES-256-GCM it replaced, on a
 * 100-byte message (a typical chat line) with a message's AAD:
 * `deno bench lib/crypto/chat_aead_bench.ts`. Wall time per call; for CPU
 * on a shared machine, compare within one run.
 *
 * @module
 */

import { generateMessageKeyBytes, importMessageKey, openMessage, sealMessage } from "./aead.ts";
import { openChatMessage, sealChatMessage } from "./chat_aead.ts";

const key = importMessageKey(generateMessageKeyBytes());
const pt = crypto.getRandomValues(new Uint8Array(100));
const aad = new TextEncoder().encode("fastchat/msg/v1 alice bob m-123 1700000000000 kid");
const gcm = sealMessage(key, pt, aad);
const xchacha = sealChatMessage(key, pt, aad);

Deno.bench("seal 100 B: AES-256-GCM, node:crypto", { group: "seal", baseline: true }, () => {
  sealMessage(key, pt, aad);
});

Deno.bench("seal 100 B: XChaCha20-Poly1305, libsodium (wasm)", { group: "seal" }, () => {
  sealChatMessage(key, pt, aad);
});

Deno.bench("open 100 B: AES-256-GCM, node:crypto", { group: "open", baseline: true }, () => {
  openMessage(key, gcm.iv, gcm.ct, aad);
});

Deno.bench("open 100 B: XChaCha20-Poly1305, libsodium (wasm)", { group: "open" }, () => {
  openChatMessage(key, xchacha.iv, xchacha.ct, aad);
});
