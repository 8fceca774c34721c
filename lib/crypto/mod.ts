/**
 * FastChat end-to-end encryption primitives: byte helpers, canonical
 * encodings, AES-256-GCM (fast synchronous path; files), password KDF,
 * vault sealing, long-term identities, signed session-key envelopes,
 * message AAD and safety numbers. The chat messages' cipher
 * (XChaCha20-Poly1305, libsodium) is `@fastchat/lib/crypto/chat_aead`,
 * apart so that servers do not load libsodium.
 *
 * @example
 * ```ts
 * import { generateIdentity, importMessageKey, messageAad } from "@fastchat/lib/crypto";
 * import { encryptText } from "@fastchat/lib/crypto/chat_aead";
 * ```
 * @module
 */

export * from "./bytes.ts";
export * from "./ed25519_weak_keys.ts";
export * from "./codec.ts";
export * from "./aead.ts";
export * from "./password.ts";
export * from "./vault.ts";
export * from "./public_keys.ts";
export * from "./identity.ts";
export * from "./session_envelope.ts";
export * from "./session_key.ts";
export * from "./message_aad.ts";
export * from "./safety_number.ts";
export * from "./file_cipher.ts";
