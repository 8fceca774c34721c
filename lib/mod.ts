/**
 * What FastChat's components share: the wire protocol and framing, the
 * error type, the end-to-end-encryption primitives, logging and process
 * management.
 *
 * @example
 * ```ts
 * import { decodeClientFrame, encodePayload, FastChatError } from "@fastchat/lib";
 * const frame = decodeClientFrame(encodePayload({ t: "ping", rid: 1 }));
 * if (frame.t !== "ping") throw new FastChatError("BAD_REQUEST", "unexpected");
 * ```
 * @module
 */
export * from "./errors.ts";
export * from "./error_frame.ts";
export * from "./frame.ts";
export * from "./framed_conn.ts";
export * from "./protocol.ts";
export * from "./logger.ts";
export * from "./log_format.ts";
