import { expect } from "expect";
import * as fc from "./mod.ts";
import { decryptText, encryptText } from "./chat_aead.ts";

Deno.test("end to end: register, back up, restore, exchange a message", async () => {
  const weak = { allowWeak: true };
  // alice and bob register: keys + password-sealed backup
  const users = await Promise.all(["alice", "bob"].map(async (name) => {
    const salt = fc.newKdfSalt();
    const { authKey, vaultKey } = await fc.derivePasswordKeys(`${name}-pw`, salt, 1000, weak);
    const id = await fc.generateIdentity();
    const pub = await fc.exportPublicKeys(id);
    const backup = await fc.sealIdentity(id, vaultKey);
    return { name, salt, authKey, pub, backup };
  }));
  const [a, b] = users;
  // both log in on a new device: re-derive from the password, restore the identity
  const restore = async (u: typeof a) => {
    const k = await fc.derivePasswordKeys(`${u.name}-pw`, u.salt, 1000, weak);
    expect(k.authKey).toEqual(u.authKey);
    return await fc.openIdentity(u.backup, k.vaultKey);
  };
  const [aliceId, bobId] = [await restore(a), await restore(b)];
  const alicePub = await fc.importPublicKeys(a.pub);
  const bobPub = await fc.importPublicKeys(b.pub);

  // alice starts a session with bob and sends a message
  const sk = await fc.createSessionKey({
    sender: "alice",
    recipient: "bob",
    senderIdentity: aliceId,
    recipientKeys: bobPub,
  });
  const meta = {
    kind: "dm",
    from: "alice",
    to: "bob",
    id: "m1",
    sentAt: Date.now(),
    kid: sk.kid,
  };
  const { iv, ct } = encryptText(fc.importMessageKey(sk.key), "hi bob", meta);

  // bob receives envelope + message
  const info = fc.peekEnvelope(sk.envelope);
  expect(info.recipientKeyFingerprint).toBe(fc.encKeyFingerprint(b.pub.enc));
  const opened = await fc.openSessionKey({
    envelope: sk.envelope,
    expectedSender: info.sender,
    expectedRecipient: "bob",
    recipientIdentity: bobId,
    senderKeys: alicePub,
  });
  expect(decryptText(fc.importMessageKey(opened.key), iv, ct, meta)).toBe("hi bob");

  // both compare safety numbers
  const sa = await fc.safetyNumber({ user: "alice", keys: a.pub }, { user: "bob", keys: b.pub });
  const sb = await fc.safetyNumber({ user: "bob", keys: b.pub }, { user: "alice", keys: a.pub });
  expect(sa).toBe(sb);
});
