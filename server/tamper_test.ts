/**
 * A malicious but authenticated peer: "mallory" speaks the raw protocol to a
 * real server process and sends bob (a real ChatClient) bodies that are not
 * ciphertexts, reference unknown keys, carry forged key envelopes or flipped
 * ciphertext bits. Bob reports each as an `error` event naming mallory,
 * never as a message, acknowledges it so it is not redelivered, and keeps
 * receiving normal messages.
 */
import { expect } from "expect";
import { msgpackCodec } from "@fastchat/lib/msgpack_codec";
import { ChatClient, type ClientEvent } from "@fastchat/client";
import {
  type CreatedSessionKey,
  createSessionKey,
  exportPublicKeys,
  generateIdentity,
  type Identity,
  importMessageKey,
  importPublicKeys,
  randomBytes,
  toBase64Url,
} from "@fastchat/lib/crypto";
import { encryptText } from "@fastchat/lib/crypto/chat_aead";
import type { ServerFrame, ServerFrameOf } from "@fastchat/lib/protocol";
import {
  DB_KINDS,
  EventLog,
  openTestDb,
  RawPeer,
  type ServerProcess,
  startServerProcess,
} from "@fastchat/testing";

const KDF = 100_000;
/** How ChatClient packs message bodies. */
const bodyPackr = msgpackCodec();

type Target = { host: string; port: number };

function client(server: Target, home: string, log: EventLog<ClientEvent>): ChatClient {
  return new ChatClient({ server, homeRoot: home, kdfIterations: KDF, onEvent: log.push });
}

const newId = () => toBase64Url(randomBytes(16));
const isMsg = (text: string) => (e: ClientEvent) => e.event === "message" && e.text === text;
const errorFor = (id: string) => (e: ClientEvent) => e.event === "error" && e.id === id;
const aboutId = (ids: Set<string>) => (e: ClientEvent) =>
  (e.event === "message" || e.event === "error") && e.id !== undefined && ids.has(e.id);

/** "mallory", registered and logged in over the raw protocol with real public keys. */
class Mallory {
  #rid = 100;

  private constructor(readonly peer: RawPeer, readonly identity: Identity) {}

  static async register(t: Target): Promise<Mallory> {
    const identity = await generateIdentity();
    const peer = await RawPeer.connect(t.host, t.port);
    await peer.send({ t: "hello", v: 1 });
    await peer.waitFrame((f) => f.t === "welcome");
    const m = new Mallory(peer, identity);
    await m.request({
      t: "register",
      user: "mallory",
      auth: randomBytes(32),
      kdf: { salt: randomBytes(16), iter: KDF },
      keys: await exportPublicKeys(identity),
      backup: randomBytes(64),
    });
    return m;
  }

  async request(frame: Record<string, unknown>): Promise<ServerFrameOf<"ok">> {
    const rid = this.#rid++;
    await this.peer.send({ ...frame, rid });
    const reply = await this.peer.waitFrame((f) =>
      (f.t === "ok" || f.t === "error") && f.rid === rid
    );
    if (reply.t === "error") throw new Error(`mallory's ${frame.t}: ${reply.code}`);
    return reply as ServerFrameOf<"ok">;
  }

  /** Sends bob a `send` frame; resolves once the server accepted it (`sent`, or a receipt). */
  async send(
    id: string,
    ts: number,
    body: Uint8Array,
    extra: { kid?: string; env?: Uint8Array } = {},
  ): Promise<void> {
    await this.peer.send({ t: "send", id, to: "bob", kind: "dm", ts, body, ...extra });
    await this.peer.waitFrame((f) =>
      (f.t === "sent" && f.ids.includes(id)) ||
      (f.t === "delivered" && f.items.some(([, i]) => i === id)) ||
      (f.t === "error" && f.id === id)
    ).then((f) => {
      if (f.t === "error") throw new Error(`server refused mallory's message: ${f.code}`);
    });
  }

  /**
   * Sends bob `text` sealed under session key `sk`, naming mallory as the
   * sender in the message's AAD; returns the message id.
   */
  async sendSealed(sk: CreatedSessionKey, text: string): Promise<string> {
    const id = newId();
    const ts = Date.now();
    const { iv, ct } = encryptText(importMessageKey(sk.key), text, {
      kind: "dm",
      from: "mallory",
      to: "bob",
      id,
      sentAt: ts,
      kid: sk.kid,
    });
    await this.send(id, ts, bodyPackr.pack({ k: sk.kid, iv, c: ct }), {
      kid: sk.kid,
      env: sk.envelope,
    });
    return id;
  }

  /** Waits for bob's delivery receipt of `id` (his ack has been processed). */
  async delivered(id: string): Promise<void> {
    await this.peer.waitFrame((f: ServerFrame) =>
      f.t === "delivered" && f.items.some(([to, i]) => to === "bob" && i === id)
    );
  }
}

for (const kind of DB_KINDS) {
  Deno.test({
    name: `tamper (${kind}): bob rejects forged and corrupted messages and keeps working`,
    async fn(t) {
      const db = await openTestDb(kind);
      const server: ServerProcess = await startServerProcess(db.url);
      const target = { host: server.host, port: server.port };
      const homeA = await Deno.makeTempDir();
      const homeB = await Deno.makeTempDir();
      const logA = new EventLog<ClientEvent>();
      const logB = new EventLog<ClientEvent>();
      const alice = client(target, homeA, logA);
      let bob = client(target, homeB, logB);
      let mallory: Mallory | null = null;
      /** Ids of mallory's bad messages: none may ever surface as a message. */
      const bad = new Set<string>();
      /**
       * Of those, the ones bob could not open for a reason that may pass (no
       * envelope yet for the key id): not acknowledged, so delivered again.
       */
      const unacked = new Set<string>();
      try {
        await alice.register("alice", "alice-password-1");
        await bob.register("bob", "bob-password-1");
        const id0 = await alice.send("bob", "hello bob");
        expect(await logB.waitFor(isMsg("hello bob"))).toMatchObject({ id: id0, from: "alice" });
        mallory = await Mallory.register(target);
        const m = mallory;

        const expectRejected = async (id: string, code: string) => {
          bad.add(id);
          const e = await logB.waitFor(errorFor(id));
          expect(e).toMatchObject({ event: "error", code, id, from: "mallory" });
        };

        await t.step("(a) a body that is not a FastChat ciphertext: DECRYPT_FAILED", async () => {
          const id = newId();
          await m.send(id, Date.now(), randomBytes(64));
          await expectRejected(id, "DECRYPT_FAILED");
        });

        await t.step("(b) a key id without any envelope: UNKNOWN_KEY", async () => {
          const id = newId();
          const body = bodyPackr.pack({
            k: toBase64Url(randomBytes(16)),
            iv: randomBytes(12),
            c: randomBytes(48),
          });
          await m.send(id, Date.now(), body);
          await expectRejected(id, "UNKNOWN_KEY");
          unacked.add(id);
        });

        const bobKeys = await importPublicKeys((await m.request({ t: "keys", user: "bob" })).keys!);

        await t.step(
          "(c) mallory's own valid key, flipped ciphertext bits: DECRYPT_FAILED",
          async () => {
            const sk = await createSessionKey({
              sender: "mallory",
              recipient: "bob",
              senderIdentity: m.identity,
              recipientKeys: bobKeys,
            });
            const key = importMessageKey(sk.key);
            const seal = (id: string, ts: number, text: string) => {
              const meta = { kind: "dm", from: "mallory", to: "bob", id, sentAt: ts, kid: sk.kid };
              const { iv, ct } = encryptText(key, text, meta);
              return { iv, ct };
            };
            const id = newId();
            const ts = Date.now();
            const { iv, ct } = seal(id, ts, "tampered text");
            ct[0] ^= 0x01;
            ct[ct.length - 1] ^= 0x80; // in the GCM tag too
            await m.send(id, ts, bodyPackr.pack({ k: sk.kid, iv, c: ct }), {
              kid: sk.kid,
              env: sk.envelope,
            });
            await expectRejected(id, "DECRYPT_FAILED");

            // Control: the same key with an intact ciphertext is a normal message, so
            // only the flipped bits were refused (the envelope was fine and is cached).
            const okId = newId();
            const okTs = Date.now();
            const good = seal(okId, okTs, "mallory says hi");
            await m.send(okId, okTs, bodyPackr.pack({ k: sk.kid, iv: good.iv, c: good.ct }));
            expect(await logB.waitFor(isMsg("mallory says hi"))).toMatchObject({
              id: okId,
              from: "mallory",
              to: "bob",
            });

            // A ciphertext moved to another message id fails its AAD check.
            const movedId = newId();
            await m.send(movedId, okTs, bodyPackr.pack({ k: sk.kid, iv: good.iv, c: good.ct }));
            await expectRejected(movedId, "DECRYPT_FAILED");
          },
        );

        await t.step("(d) an envelope naming alice, signed by mallory: BAD_SIGNATURE", async () => {
          const sk = await createSessionKey({
            sender: "alice",
            recipient: "bob",
            senderIdentity: m.identity,
            recipientKeys: bobKeys,
          });
          const id = await m.sendSealed(sk, "I am alice");
          await expectRejected(id, "BAD_SIGNATURE");
        });

        await t.step("bob keeps working: alice's next message arrives", async () => {
          const id = await alice.send("bob", "still there?");
          expect(await logB.waitFor(isMsg("still there?"))).toMatchObject({ id, from: "alice" });
          // Everything bob processed before it was reported exactly once, never as a message.
          for (const id of bad) {
            expect(logB.events.filter((e) => e.event === "error" && e.id === id).length).toBe(1);
            expect(logB.events.some((e) => e.event === "message" && e.id === id)).toBe(false);
          }
          expect(logB.events.some((e) => e.event === "disconnected")).toBe(false);
          expect(logB.events.filter((e) => e.event === "error" && e.id === undefined)).toEqual([]);
        });

        await t.step(
          "undecryptable messages were acknowledged and are not redelivered",
          async () => {
            // Bob acknowledged each: the sender gets its delivery receipt once the ack is processed.
            for (const id of bad) if (!unacked.has(id)) await m.delivered(id);
            await bob.close();
            const logB2 = new EventLog<ClientEvent>();
            bob = client(target, homeB, logB2);
            await bob.login("bob", "bob-password-1");
            // The stored backlog is sent (and processed, in order) before later live traffic.
            const marker = `marker ${crypto.randomUUID()}`;
            await alice.send("bob", marker);
            await logB2.waitFor(isMsg(marker));
            const acked = new Set([...bad].filter((id) => !unacked.has(id)));
            expect(logB2.events.filter(aboutId(acked))).toEqual([]);
            // The unknown key may yet appear (a write-behind envelope on another server):
            // that message is delivered again and refused again, never shown.
            const again = logB2.events.filter(aboutId(unacked));
            expect(again.map((e) => [e.event, (e as { code?: string }).code])).toEqual(
              [...unacked].map(() => ["error", "UNKNOWN_KEY"]),
            );
            expect(logB2.events.filter((e) => e.event === "error" && !unacked.has(e.id!)))
              .toEqual([]);
          },
        );
      } finally {
        mallory?.peer.close();
        await alice.close().catch(() => {});
        await bob.close().catch(() => {});
        await server.proc.stop();
        await db.close();
      }
    },
  });

  // BUG (client/chat_client.ts parseBody, and KeyManager.incoming): the body's
  // key id `k` is only checked to be a string. A kid the protocol would reject
  // (not /^[A-Za-z0-9_-]{8,64}$/) makes bob's client send the server an invalid
  // `envelope` request: the server answers with an error frame WITHOUT a rid
  // (frame validation fails before dispatch), counts it against bob's session
  // (20 of them close it with TOO_MANY_ERRORS), and bob's request hangs until
  // its 15 s TIMEOUT while his whole receive queue is stalled; TIMEOUT is not a
  // crypto error, so the message is never acknowledged and is redelivered (and
  // stalls again) at every login. Expected fix: reject such a body locally as
  // "not a FastChat ciphertext" (DECRYPT_FAILED), e.g. in parseBody require
  // MESSAGE_ID_RE.test(v.k) (or base64url of 16 bytes), and/or make
  // KeyManager.incoming refuse malformed kids before calling fetchEnvelope.
  // This test fails until then.
  Deno.test({
    name: `tamper (${kind}): a body whose key id is malformed is rejected locally`,
    async fn() {
      const db = await openTestDb(kind);
      const server = await startServerProcess(db.url);
      const target = { host: server.host, port: server.port };
      const homeB = await Deno.makeTempDir();
      const logB = new EventLog<ClientEvent>();
      let bob = client(target, homeB, logB);
      let mallory: Mallory | null = null;
      try {
        await bob.register("bob", "bob-password-1");
        mallory = await Mallory.register(target);
        const bad = new Set<string>();
        for (const k of ["not a kid!", "short", "x".repeat(65)]) {
          const id = newId();
          bad.add(id);
          const body = bodyPackr.pack({ k, iv: randomBytes(12), c: randomBytes(32) });
          await mallory.send(id, Date.now(), body);
          const e = await logB.waitFor(errorFor(id));
          // The fix may report it as a broken body or an unknown key; both are acknowledged.
          expect((e as { code: string }).code).toMatch(/^(DECRYPT_FAILED|UNKNOWN_KEY)$/);
          expect(e).toMatchObject({ from: "mallory" });
        }
        // Nothing was sent to the server on bob's behalf that it had to refuse.
        expect(logB.events.filter((e) => e.event === "error" && e.id === undefined)).toEqual([]);
        for (const id of bad) await mallory.delivered(id);
        // Not redelivered at the next login.
        await bob.close();
        const logB2 = new EventLog<ClientEvent>();
        bob = client(target, homeB, logB2);
        await bob.login("bob", "bob-password-1");
        const sk = await createSessionKey({
          sender: "mallory",
          recipient: "bob",
          senderIdentity: mallory.identity,
          recipientKeys: await importPublicKeys(
            (await mallory.request({ t: "keys", user: "bob" })).keys!,
          ),
        });
        await mallory.sendSealed(sk, "marker");
        await logB2.waitFor(isMsg("marker"));
        expect(logB2.events.filter(aboutId(bad))).toEqual([]);
      } finally {
        mallory?.peer.close();
        await bob.close().catch(() => {});
        await server.proc.stop();
        await db.close();
      }
    },
  });
}
