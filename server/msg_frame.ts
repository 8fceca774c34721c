/**
 * The `msg` frame a recipient gets, built in this one place for live
 * delivery, forwarding to other servers and the stored backlog.
 *
 * @example
 * ```ts
 * import { msgFrame } from "@fastchat/server/msg_frame";
 * const m = { id: "m-00000001", sender: "alice", recipient: "bob", kind: 1, body: new Uint8Array([1]), sentAt: 0 };
 * console.log(msgFrame(m).kind); // "dm"
 * ```
 * @module
 */
import { KIND_CODES, type MessageKind, type ServerFrameOf } from "@fastchat/lib/protocol";
import type { StoredMessage } from "./store.ts";

const KIND_NAMES = new Map<number, MessageKind>(
  Object.entries(KIND_CODES).map(([name, code]) => [code, name as MessageKind]),
);

/**
 * The `msg` frame of message `m`; `kid` and `env` travel with a live
 * message that carries a new key envelope (the backlog has none: a
 * recipient fetches a stored envelope with an `envelope` request).
 *
 * @example
 * ```ts
 * import { msgFrame } from "@fastchat/server/msg_frame";
 * const m = { id: "m-00000001", sender: "alice", recipient: "bob", kind: 1, body: new Uint8Array([1]), sentAt: 0 };
 * console.log(msgFrame(m, "kid-0001").kid); // "kid-0001"
 * ```
 */
export function msgFrame(m: StoredMessage, kid?: string, env?: Uint8Array): ServerFrameOf<"msg"> {
  const f: ServerFrameOf<"msg"> = {
    t: "msg",
    id: m.id,
    from: m.sender,
    to: m.recipient,
    kind: KIND_NAMES.get(m.kind) ?? "dm",
    ts: m.sentAt,
    body: m.body,
  };
  if (kid !== undefined) f.kid = kid;
  if (env !== undefined) f.env = env;
  return f;
}
