/**
 * CPU per direct message of the client's hot path, without servers or
 * network, so that two versions of the client can be compared on a busy
 * machine (a `deno task perf` run measures the same work, and all the rest,
 * with a noise of ±10 % here). Per message: the sender seals it
 * (`sealDirectContent`), queues it in an outbox kept on disk (a real
 * `outbox.log`, written in batches of one message per client as in a
 * saturated run: one message per client every 5 ms, {@link SENDS_PER_LINGER}
 * per write linger), encodes the `send` frame; the receiver decodes the `msg`
 * frame, decrypts, de-duplicates and acknowledges it (`Inbox`); the sender
 * takes the `sent` confirmation and the `delivered` receipt.
 *
 * `deno run -A perf/client_hot_path_bench.ts [clients] [turns] [rounds]`
 * prints CPU µs per message for each round.
 *
 * @module
 */
import process from "node:process";
import {
  derivePasswordKeys,
  generateMessageKeyBytes,
  importMessageKey,
} from "@fastchat/lib/crypto";
import { decodeServerFrame, encodePayload, type ServerFrameOf } from "@fastchat/lib/protocol";
import { sealDirectContent } from "@fastchat/client/message_body";
import { encodeContent } from "@fastchat/client/message_content";
import { Inbox, type InboxSession } from "@fastchat/client/inbox";
import { Outbox, type OutboxFrame, WRITE_LINGER_MS } from "@fastchat/client/outbox";
import { UserHome } from "@fastchat/client/user_home";
import type { IncomingKey, KeyManager, OutgoingKey } from "@fastchat/client/key_manager";
import { AckBatcher } from "@fastchat/client/ack_batcher";

/** A saturated run's client sends about one message every 5 ms: so many share a log write. */
const SENDS_PER_LINGER = Math.max(1, Math.round(WRITE_LINGER_MS / 5));
const clients = Number(Deno.args[0] ?? 50);
const turns = Number(Deno.args[1] ?? 200);
const rounds = Number(Deno.args[2] ?? 5);

const raw = generateMessageKeyBytes();
const kid = "kid-0123456789abcdef";
const out: OutgoingKey = {
  kid,
  raw,
  key: importMessageKey(raw),
  count: 0,
  created: Date.now(),
  fp: "fp",
  env: null,
};
const root = await Deno.makeTempDir({ prefix: "fastchat-hot-path-" });
const { vaultKey } = await derivePasswordKeys("bench password", new Uint8Array(16), 1000, {
  allowWeak: true,
});

interface Pair {
  from: string;
  to: string;
  outbox: Outbox;
  inbox: Inbox;
}

const acks = new AckBatcher();
const pairs: Pair[] = [];
for (let i = 0; i < clients; i++) {
  const from = `perf-bench-${i}`;
  const to = `perf-bench-${(i + 1) % clients}`;
  const incoming: IncomingKey = { kid, from, raw, key: out.key, created: out.created };
  const keys = {
    incomingReady: (f: string, k: string) => (f === from && k === kid ? incoming : null),
  } as unknown as KeyManager;
  const home = UserHome.at(root, from);
  const outbox = new Outbox();
  await outbox.attach(home.outboxStorage(vaultKey));
  outbox.releaseReceipts(); // the user is ready: receipts are judged at once
  const inbox = new Inbox({
    emit: () => {},
    sendAcks: (items) => encodePayload({ t: "ack", items }).length > 0,
    history: false,
    acks,
  });
  inbox.start({ user: to, keys, home, vaultKey } as InboxSession);
  pairs.push({ from, to, outbox, inbox });
}

/** Queues a frame as ChatClient does in each version (the outbox API changed). */
async function queue(outbox: Outbox, frame: OutboxFrame): Promise<void> {
  const fast = (outbox as unknown as { tryEnqueue?: (f: OutboxFrame) => Promise<void> | null })
    .tryEnqueue;
  if (fast) {
    if (fast.call(outbox, frame)) return;
  }
  const { written } = await outbox.enqueue(frame);
  written.then(() => {}, () => {});
}

const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const content = encodeContent({ type: "text", text: "x".repeat(100) });

for (let r = 0; r < rounds; r++) {
  const c0 = cpu();
  let previous: [Pair, string][] = [];
  for (let t = 0; t < turns; t++) {
    const sent: [Pair, string][] = [];
    for (let k = 0; k < SENDS_PER_LINGER * pairs.length; k++) {
      const p = pairs[k % pairs.length];
      const frame = sealDirectContent(p.from, p.to, content, out);
      await queue(p.outbox, frame);
      encodePayload(frame); // to the server
      const msg: ServerFrameOf<"msg"> = {
        t: "msg",
        id: frame.id,
        from: p.from,
        to: p.to,
        kind: "dm",
        ts: frame.ts,
        body: frame.body,
      };
      p.inbox.push(decodeServerFrame(encodePayload(msg)) as ServerFrameOf<"msg">);
      sent.push([p, frame.id]);
    }
    // The write linger passes (each outbox writes this turn's messages) and
    // the server confirms the message of the turn before: its confirmation
    // rides along with the next write, as in a saturated run.
    await new Promise((r) => setTimeout(r, WRITE_LINGER_MS + 1));
    for (const [p, id] of previous) { // one by one: the frames of a saturated run hold a few
      const s = decodeServerFrame(encodePayload({ t: "sent", ids: [id] }));
      if (s.t === "sent") p.outbox.confirm(s.ids);
      const d = decodeServerFrame(encodePayload({ t: "delivered", items: [[p.to, id]] }));
      if (d.t === "delivered") p.outbox.receipts(d);
    }
    previous = sent;
  }
  const n = turns * clients * SENDS_PER_LINGER;
  console.log(`round ${r}: ${((cpu() - c0) / n).toFixed(2)} µs CPU per message (${n} messages)`);
}
for (const p of pairs) await p.outbox.close();
await Deno.remove(root, { recursive: true });
