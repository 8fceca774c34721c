import { expect } from "expect";
import { messageAad, type MessageAadFields } from "./message_aad.ts";
import { codeOf } from "@fastchat/testing/assert_code";

const meta: MessageAadFields = {
  kind: "dm",
  from: "alice",
  to: "bob",
  id: "msg-1",
  sentAt: 1_700_000_000_000,
  kid: "AAAAAAAAAAAAAAAAAAAAAA",
};

Deno.test("messageAad is canonical and field-boundary safe", () => {
  expect(messageAad(meta)).toEqual(messageAad({ ...meta }));
  const a = messageAad({ ...meta, from: "ab", to: "c" });
  const b = messageAad({ ...meta, from: "a", to: "bc" });
  expect(a).not.toEqual(b);
  const text = new TextDecoder().decode(messageAad(meta));
  expect(text).toContain("fastchat/msg/v1");
  expect(codeOf(() => messageAad({ ...meta, sentAt: 1.5 }))).toBe("BAD_REQUEST");
});
