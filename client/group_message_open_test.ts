import { expect } from "expect";
import { generateMessageKeyBytes, importMessageKey } from "@fastchat/lib/crypto";
import type { ServerFrameOf } from "@fastchat/lib/protocol";
import { assertCode } from "@fastchat/testing/assert_code";
import { openGroupMessage } from "./group_message_open.ts";
import { sealGroupContent } from "./message_body.ts";
import { encodeContent, type MessageContent } from "./message_content.ts";

const KID = "sk-0123456789";
const key = importMessageKey(generateMessageKeyBytes());

/** What a member receives for `content` sealed by alice to #team under `key`. */
function received(content: MessageContent, under = key): ServerFrameOf<"msg"> {
  const s = sealGroupContent("alice", "#team", encodeContent(content), KID, under);
  return { t: "msg", id: s.id, from: "alice", to: s.to, kind: "group", ts: s.ts, body: s.body };
}

Deno.test("openGroupMessage: a text opens with the sender's key for the group", () => {
  const asked: string[][] = [];
  const c = openGroupMessage(received({ type: "text", text: "hello team" }), (g, m, k) => {
    asked.push([g, m, k]);
    return key;
  });
  expect(c).toEqual({ type: "text", text: "hello team" });
  expect(asked).toEqual([["#team", "alice", KID]]);
});

Deno.test("openGroupMessage: null while the sender's key has not arrived", () => {
  expect(openGroupMessage(received({ type: "text", text: "early" }), () => undefined)).toBeNull();
});

Deno.test("openGroupMessage: another key, another sender or group, or a flipped byte is DECRYPT_FAILED", async () => {
  const other = importMessageKey(generateMessageKeyBytes());
  const f = received({ type: "text", text: "hi" });
  await assertCode(() => openGroupMessage(f, () => other), "DECRYPT_FAILED");
  await assertCode(() => openGroupMessage({ ...f, from: "mallory" }, () => key), "DECRYPT_FAILED");
  await assertCode(() => openGroupMessage({ ...f, to: "#other" }, () => key), "DECRYPT_FAILED");
  await assertCode(() => openGroupMessage({ ...f, ts: f.ts + 1 }, () => key), "DECRYPT_FAILED");
  const body = f.body.slice();
  body[body.length - 1] ^= 1;
  await assertCode(() => openGroupMessage({ ...f, body }, () => key), "DECRYPT_FAILED");
});

Deno.test("openGroupMessage: a sender key or a batch in a group is refused; a malformed body too", async () => {
  const senderKey = received({
    type: "sender_key",
    group: "#team",
    kid: KID,
    key: new Uint8Array(32),
  });
  await assertCode(() => openGroupMessage(senderKey, () => key), "DECRYPT_FAILED");
  const batch = received({ type: "batch", items: [{ ts: 1, text: "a" }, { ts: 2, text: "b" }] });
  await assertCode(() => openGroupMessage(batch, () => key), "DECRYPT_FAILED");
  const junk = { ...received({ type: "text", text: "x" }), body: new Uint8Array([0xc1, 2, 3]) };
  await assertCode(() => openGroupMessage(junk, () => key), "DECRYPT_FAILED");
});
