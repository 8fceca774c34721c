/**
 * FastChat end-to-end encryption primitives: byte helpers, canonical
 * encodings, AES-256-GCM message encryption (fast synchronous path),
 * password KDF, vault sealing, long-term identities, signed session-key
 * envelopes, direct-message text encryption and safety numbers.
 *
 * @example
 * ```ts
 * import { generateIdentity, importMessageKey, encryptText } from "@fastchat/lib/crypto";
 * ```
 * @module
 */

export * from "./bytes.ts";
export * from "./ed25519_weak_keys.ts";
export * from "./codec.ts";
export * from "./aead.ts";
export * from "./chat_aead.ts";
export * from "./password.ts";
export * from "./vault.ts";
export * from "./public_keys.ts";
export * from "./identity.ts";
export * from "./session_envelope.ts";
export * from "./session_key.ts";
export * from "./dm_cipher.ts";
export * from "./safety_number.ts";
export * from "./file_cipher.ts";
