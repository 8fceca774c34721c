/** The one `msg` frame builder: what a recipient decodes, live or from the backlog. */
import { expect } from "expect";
import { decodeServerFrame, encodePayload } from "@fastchat/lib/protocol";
import { msgFrame } from "./msg_frame.ts";
import type { StoredMessage } from "./store.ts";

const m: StoredMessage = {
  seq: 7,
  id: "m-00000001",
  sender: "alice",
  recipient: "bob",
  kind: 1,
  body: new Uint8Array([1, 2, 3]),
  sentAt: 1234,
};

Deno.test("msgFrame: a stored message decodes as the msg frame a client validates", () => {
  const f = decodeServerFrame(encodePayload(msgFrame(m)));
  expect(f).toEqual({
    t: "msg",
    id: "m-00000001",
    from: "alice",
    to: "bob",
    kind: "dm",
    ts: 1234,
    body: new Uint8Array([1, 2, 3]),
  });
  expect(Object.keys(f)).not.toContain("kid"); // absent, not undefined on the wire
});

Deno.test("msgFrame: a key envelope travels with the live message", () => {
  const env = new Uint8Array(32).fill(9);
  const f = decodeServerFrame(encodePayload(msgFrame(m, "kid-00000001", env)));
  expect(f).toMatchObject({ t: "msg", kid: "kid-00000001", env });
  expect(msgFrame(m, "kid-00000001")).not.toHaveProperty("env");
});
