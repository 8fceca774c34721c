/** BacklogSync against PGlite and (when configured) PostgreSQL: pacing and resends. */
import { expect } from "expect";
import { BacklogSync } from "./backlog_sync.ts";
import { RecordingSession } from "./recording_session.ts";
import type { ChatStore, StoredMessage } from "./store.ts";
import { DB_KINDS, type DbKind, withTestStore } from "@fastchat/testing";
import { waitUntil } from "@fastchat/lib/wait_until";

const msg = (id: string): StoredMessage => ({
  id,
  sender: "alice",
  recipient: "bob",
  kind: 1,
  body: new Uint8Array([1]),
  sentAt: 1,
});

/** A session whose outbound queue is always congested until the test lets it drain. */
class CongestedSession extends RecordingSession {
  override readonly congested = true;
  drains: (() => void)[] = [];
  #asked: (() => void) | null = null;
  override writable(): Promise<void> {
    this.#asked?.();
    return new Promise((r) => this.drains.push(r));
  }
  /** Resolves when the backlog waits for the queue to drain. */
  waiting(): Promise<void> {
    return new Promise((r) => this.#asked = r);
  }
}

/** A writer whose flushes are counted and held until released. */
function gatedWriter() {
  const held: (() => void)[] = [];
  return {
    calls: 0,
    held,
    flush(): Promise<void> {
      this.calls++;
      return new Promise((r) => held.push(r));
    },
  };
}

/** Runs `fn` on a store of a new database of `kind` in which alice has sent bob three messages. */
const withStore = (kind: DbKind, fn: (store: ChatStore) => Promise<void>) =>
  withTestStore(kind, ["alice", "bob"], async (store) => {
    await store.insertMessages([msg("back000001"), msg("back000002"), msg("back000003")]);
    await fn(store);
  });

for (const kind of DB_KINDS) {
  Deno.test(`backlog (${kind}): the backlog waits for a congested connection`, () =>
    withStore(kind, async (store) => {
      const backlog = new BacklogSync(store, { flush: () => Promise.resolve() }, {
        bufferBytes: 1 << 20,
      });
      const bob = new CongestedSession("bob");
      backlog.begin(bob);
      expect(backlog.deliver(bob, new Uint8Array([1]), "alice", "live000001")).toBe(true);
      expect(bob.delivered).toEqual([]); // held back
      let waiting = bob.waiting();
      const done = backlog.catchUp(bob);
      for (let n = 1; n <= 3; n++) {
        await waiting;
        expect(bob.deliveredIds).toEqual(["back000001", "back000002", "back000003"].slice(0, n));
        waiting = bob.waiting();
        bob.drains.shift()!();
      }
      await done;
      // The held live message comes last; from now on live messages go straight out.
      expect(bob.delivered.length).toBe(4);
      backlog.deliver(bob, new Uint8Array([2]), "alice", "live000002");
      expect(bob.delivered.length).toBe(5);
    }));

  Deno.test(`backlog (${kind}): one resend at a time; those asked meanwhile run once after; none when stopped`, () =>
    withStore(kind, async (store) => {
      const ids = ["back000001", "back000002", "back000003"];
      const writer = gatedWriter();
      const backlog = new BacklogSync(store, writer, { bufferBytes: 1 << 20 });
      const bob = new RecordingSession("bob");
      backlog.begin(bob);
      // Catching up: what the catch-up read may predate what the resend is for, so it
      // runs once after it, however often asked.
      backlog.resend(bob, () => true);
      backlog.resend(bob, () => true);
      expect(writer.calls).toBe(0);
      backlog.end(bob);
      expect(writer.calls).toBe(1);

      backlog.resend(bob, () => true); // one running already: once more after it
      backlog.resend(bob, () => true);
      expect(writer.calls).toBe(1);
      writer.held.shift()!();
      await bob.waitDelivered(3);
      await waitUntil(() => writer.calls === 2, 5_000, "the second pass to start");
      writer.held.shift()!();
      await bob.waitDelivered(6);
      expect(bob.deliveredIds).toEqual([...ids, ...ids]);

      // Detached meanwhile: nothing is sent.
      const gone = new RecordingSession("bob");
      backlog.resend(gone, () => false);
      expect(writer.calls).toBe(3);
      writer.held.shift()!();
      backlog.stop();
      backlog.resend(bob, () => true);
      await store.pendingFor("bob", 0, 1); // a round trip for a resend to have acted
      expect(writer.calls).toBe(3); // no third pass for bob, none after stop
      expect(gone.delivered).toEqual([]);
      expect(bob.delivered.length).toBe(6);
    }));

  Deno.test(`backlog (${kind}): a resend sends stored receipts too`, () =>
    withStore(kind, async (store) => {
      // A receipt stored while its sender was online elsewhere (the link to
      // the sender's server was down) reaches it at the next resync, not only
      // at its next login.
      await store.insertReceipts([{ sender: "bob", recipient: "alice", id: "rcpt000001" }]);
      const backlog = new BacklogSync(store, { flush: () => Promise.resolve() }, {
        bufferBytes: 1 << 20,
      });
      const bob = new RecordingSession("bob");
      backlog.resend(bob, () => true);
      await bob.waitDelivered(3);
      expect(bob.storedReceipts).toEqual([["alice", "rcpt000001"]]);
    }));
}
