/**
 * Opens a group message a member received: its body is parsed, its sender's
 * key for the group looked up, and the content decrypted under the AAD
 * that binds it to sender, group, id, time and key. Only texts and files
 * may travel in a group; a sender key or a batch there is refused as
 * undecryptable (`DECRYPT_FAILED`), as is anything that fails
 * authentication. When the sender's key has not arrived yet (keys travel
 * as direct messages and may come later), the result is `null`: the
 * message waits, unacknowledged.
 *
 * @example
 * ```ts
 * import { openGroupMessage } from "@fastchat/client/group_message_open";
 * import type { ServerFrameOf } from "@fastchat/lib/protocol";
 * declare const f: ServerFrameOf<"msg">;
 * const c = openGroupMessage(f, () => undefined);
 * console.log(c); // null: no key for this sender yet
 * ```
 * @module
 */
import { messageAadView, type MessageKey } from "@fastchat/lib/crypto";
import { openChatMessage } from "@fastchat/lib/crypto/chat_aead";
import { FastChatError } from "@fastchat/lib/errors";
import type { ServerFrameOf } from "@fastchat/lib/protocol";
import { parseBody } from "./message_body.ts";
import { decodeContent, type MessageContent } from "./message_content.ts";

/** What a group message may carry. */
export type GroupContent = Extract<MessageContent, { type: "text" | "file" }>;

/** Finds `member`'s key `kid` for `group` (a `SenderKeyRing`'s `lookup`). */
export type SenderKeyLookup = (
  group: string,
  member: string,
  kid: string,
) => MessageKey | undefined;

/**
 * The content of group message `f`, or `null` while its sender's key is
 * missing. Throws `FastChatError` `DECRYPT_FAILED` for a malformed body,
 * for anything that does not open, or for what a group may not carry (a
 * `BAD_REQUEST` from the content's decoder for malformed content): such a
 * message never will open.
 *
 * @example
 * ```ts
 * import { openGroupMessage } from "@fastchat/client/group_message_open";
 * import { sealGroupContent } from "@fastchat/client/message_body";
 * import { encodeContent } from "@fastchat/client/message_content";
 * import { generateMessageKeyBytes, importMessageKey } from "@fastchat/lib/crypto";
 * const key = importMessageKey(generateMessageKeyBytes());
 * const s = sealGroupContent("alice", "#team", encodeContent({ type: "text", text: "hi" }), "sk-0123456789", key);
 * const f = { t: "msg" as const, id: s.id, from: "alice", to: s.to, kind: "group" as const, ts: s.ts, body: s.body };
 * openGroupMessage(f, () => key); // { type: "text", text: "hi" }
 * ```
 */
export function openGroupMessage(
  f: ServerFrameOf<"msg">,
  lookup: SenderKeyLookup,
): GroupContent | null {
  const body = parseBody(f.body);
  const key = lookup(f.to, f.from, body.k);
  if (!key) return null;
  const plain = openChatMessage(
    key,
    body.iv,
    body.c,
    messageAadView({ kind: "group", from: f.from, to: f.to, id: f.id, sentAt: f.ts, kid: body.k }),
  );
  const c = decodeContent(plain);
  if (c.type === "sender_key" || c.type === "batch") {
    throw new FastChatError("DECRYPT_FAILED", `a ${c.type} in a group`);
  }
  return c;
}
