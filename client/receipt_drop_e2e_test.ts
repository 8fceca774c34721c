/**
 * A live `delivered` receipt lost on the way to its sender (the sender's
 * connection drops with the receipt in flight) is not lost to the sender:
 * its message stays in the sender's outbox until a receipt or `sent`
 * confirms it, goes out again after the reconnect, the recipient drops the
 * duplicate but acknowledges it, and the receipt comes again, shown once.
 * A real chat server in process over PGlite and PostgreSQL; the sender's
 * connection runs through a loopback relay that holds, then discards, what
 * the server sends it.
 */
import { expect } from "expect";
import { waitUntil } from "@fastchat/lib/wait_until";
import { DB_KINDS, EventLog, openTestDb, withChatServer } from "@fastchat/testing";
import { ChatClient, type ClientEvent } from "./chat_client.ts";

const KDF = 100_000;

/** Relays loopback TCP to `port`; server-to-client bytes can be held back, then dropped with a cut. */
class HoldingRelay {
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #conns = new Set<Deno.Conn>();
  readonly #pumps = new Set<Promise<void>>();
  readonly #accepting: Promise<void>;
  /** While true, what the server sends is counted and discarded. */
  holding = false;
  heldBytes = 0;

  constructor(readonly port: number) {
    this.#accepting = this.#accept();
  }

  get listenPort(): number {
    return this.#listener.addr.port;
  }

  async #accept(): Promise<void> {
    for await (const a of this.#listener) {
      const b = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
      this.#conns.add(a).add(b);
      const pump = Promise.all([this.#pipe(a, b, false), this.#pipe(b, a, true)]).then(() => {
        for (const c of [a, b]) this.#close(c);
      });
      this.#pumps.add(pump);
      pump.finally(() => this.#pumps.delete(pump));
    }
  }

  async #pipe(from: Deno.Conn, to: Deno.Conn, fromServer: boolean): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        if (fromServer && this.holding) {
          this.heldBytes += n;
          continue;
        }
        let off = 0;
        while (off < n) off += await to.write(buf.subarray(off, n));
      }
    } catch { /* cut, or the other side closed: the pair ends */ }
    this.#close(to);
  }

  #close(c: Deno.Conn): void {
    if (!this.#conns.delete(c)) return;
    try {
      c.close();
    } catch { /* closed already */ }
  }

  /** Drops every relayed connection (what was held is gone) and stops holding. */
  cut(): void {
    this.holding = false;
    for (const c of [...this.#conns]) this.#close(c);
  }

  async close(): Promise<void> {
    this.#listener.close();
    this.cut();
    await this.#accepting.catch(() => {});
    await Promise.all([...this.#pumps]);
  }
}

for (const kind of DB_KINDS) {
  Deno.test(`receipt drop (${kind}): a live receipt lost with the sender's connection still arrives, once`, async () => {
    const db = await openTestDb(kind);
    const root = await Deno.makeTempDir({ prefix: "fastchat-receipt-" });
    try {
      await withChatServer(db, {}, async (server) => {
        const relay = new HoldingRelay(server.port);
        const logA = new EventLog<ClientEvent>();
        const logB = new EventLog<ClientEvent>();
        const alice = new ChatClient({
          server: { host: "127.0.0.1", port: relay.listenPort },
          homeRoot: root,
          kdfIterations: KDF,
          onEvent: logA.push,
        });
        const bob = new ChatClient({
          server: { host: "127.0.0.1", port: server.port },
          homeRoot: root,
          kdfIterations: KDF,
          onEvent: logB.push,
        });
        try {
          await alice.register("alice", "alice-password-1");
          await bob.register("bob", "bob-password-1");
          await alice.send("bob", "warm-up"); // keys and envelopes in place
          await logA.waitFor((e) => e.event === "delivered");

          // alice's receipt is sent (bob acknowledged before the write) but never reaches her.
          relay.holding = true;
          const skipped = server.router.queue.stats.skipped;
          const id = await alice.send("bob", "receipt in flight");
          await logB.waitFor((e) => e.event === "message" && e.id === id);
          await waitUntil(
            () => server.router.queue.stats.skipped > skipped && relay.heldBytes > 0,
            15_000,
            "the live receipt to be sent into the held connection",
          );
          expect(logA.events.some((e) => e.event === "delivered" && e.id === id)).toBe(false);
          const gone = server.sessionClosed((u) => u === "alice");
          relay.cut();
          await gone;

          // alice reconnects, sends it again; bob drops the duplicate and acknowledges it.
          await logA.waitFor((e) => e.event === "reconnected");
          await logA.waitFor((e) => e.event === "delivered" && e.id === id);
          expect(logA.events.filter((e) => e.event === "delivered" && e.id === id)).toHaveLength(1);
          expect(logB.events.filter((e) => e.event === "message" && e.id === id)).toHaveLength(1);
        } finally {
          await alice.close();
          await bob.close();
          await relay.close();
        }
      });
    } finally {
      await db.close();
      await Deno.remove(root, { recursive: true });
    }
  });
}
