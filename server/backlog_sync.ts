/**
 * Offline backlog delivery for the message router: what a session gets
 * when it joins (stored receipts, then stored messages, then the live
 * messages that arrived meanwhile, in that order, each once) and when the
 * router resyncs (every stored receipt and message again; clients drop
 * duplicates).
 *
 * While a session's backlog is being sent, live messages for it wait in a
 * bounded buffer; past the bound they are dropped (they are stored) and the
 * backlog is read again from where it stopped. The backlog is paced by the
 * session's outbound queue.
 *
 * @example
 * ```ts
 * import { BacklogSync } from "@fastchat/server/backlog_sync";
 * import type { ChatStore } from "@fastchat/server/store";
 * declare const store: ChatStore;
 * const backlog = new BacklogSync(store, { flush: () => Promise.resolve() }, { bufferBytes: 1 << 22 });
 * console.log(backlog.stopped); // false
 * ```
 * @module
 */
import { encodePayload } from "@fastchat/lib/protocol";
import { type Logger, nullLogger } from "@fastchat/lib/logger";
import { msgFrame } from "./msg_frame.ts";
import type { GroupLog } from "./group_log.ts";
import type { ChatStore } from "./store.ts";

/**
 * What backlog delivery needs from a session.
 *
 * @example
 * ```ts
 * import type { BacklogSession } from "@fastchat/server/backlog_sync";
 * declare const s: BacklogSession;
 * if (s.congested) await s.writable();
 * ```
 */
export interface BacklogSession {
  readonly user: string;
  /** Sends an encoded `msg` frame; false if the connection is gone or too slow. */
  deliver(payload: Uint8Array): boolean;
  /** Queues a `delivered` receipt; `stored` when the client must acknowledge it. */
  confirmDelivered(peer: string, id: string, stored: boolean): void;
  /** The outbound queue is past half its limit: wait for `writable()` before sending more. */
  readonly congested: boolean;
  /** Resolves when the outbound queue is below half its limit (or the connection closed). */
  writable(): Promise<void>;
  /** Whether the connection has closed. */
  readonly closed: boolean;
}

/** Live messages held back while a backlog is sent. */
interface SyncBuffer {
  items: { key: string; payload: Uint8Array }[];
  bytes: number;
  overflow: boolean;
}

const PAGE = 500;

/** Where a backlog pass got to: last direct-message seq and last group-log seq sent. */
interface Cursor {
  dm: number;
  group: number;
}

/**
 * Sends stored messages to sessions, in order with live ones.
 *
 * @example
 * ```ts
 * import type { BacklogSync } from "@fastchat/server/backlog_sync";
 * declare const backlog: BacklogSync;
 * backlog.stop(); // shutting down: resend() does nothing from now on
 * ```
 */
export class BacklogSync {
  readonly #store: ChatStore;
  readonly #writer: { flush(): Promise<void> };
  readonly #bufferBytes: number;
  readonly #log: Logger;
  readonly #groupLog: GroupLog | undefined;
  readonly #syncing = new Map<BacklogSession, SyncBuffer>();
  readonly #resending = new Set<BacklogSession>();
  /** Resends asked for while one ran (or the session caught up): run once more after it. */
  readonly #again = new Map<BacklogSession, () => boolean>();
  #stopped = false;

  constructor(
    store: ChatStore,
    writer: { flush(): Promise<void> },
    opts: { bufferBytes: number; logger?: Logger; groupLog?: GroupLog },
  ) {
    this.#store = store;
    this.#writer = writer;
    this.#bufferBytes = opts.bufferBytes;
    this.#log = opts.logger ?? nullLogger;
    this.#groupLog = opts.groupLog;
  }

  /** Whether {@link stop} was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** From now on, live messages for `s` wait until its backlog has been sent. */
  begin(s: BacklogSession): void {
    this.#syncing.set(s, { items: [], bytes: 0, overflow: false });
  }

  /**
   * Hands live message `id` of `sender` to `s`, or holds it back while `s`
   * catches up (true: it will be sent, or it is stored and the backlog
   * sends it).
   */
  deliver(s: BacklogSession, payload: Uint8Array, sender: string, id: string): boolean {
    const buf = this.#syncing.size > 0 ? this.#syncing.get(s) : undefined;
    if (!buf) return s.deliver(payload);
    // Past the bound, drop: the message is stored and the next backlog pass sends it.
    if (buf.bytes + payload.length > this.#bufferBytes) buf.overflow = true;
    else {
      // The key is built only here: most deliveries find no catch-up in progress.
      buf.items.push({ key: sender + "\n" + id, payload });
      buf.bytes += payload.length;
    }
    return true;
  }

  /**
   * Sends `s` its stored receipts, its stored messages and then the live
   * messages held back since {@link begin}, and ends holding back.
   */
  async catchUp(s: BacklogSession): Promise<void> {
    const buf = this.#syncing.get(s);
    if (!buf) return;
    try {
      // Stored receipts are re-sent at every login until the client acknowledges them.
      await this.#sendReceipts(s);
      const sent = new Set<string>();
      let after: Cursor = { dm: 0, group: 0 };
      do {
        buf.overflow = false;
        await this.#writer.flush();
        after = await this.#sendStored(s, after, sent);
      } while (buf.overflow && !s.closed);
      this.#syncing.delete(s);
      for (const b of buf.items) if (!sent.has(b.key)) s.deliver(b.payload);
    } finally {
      this.#syncing.delete(s);
      this.#resendAgain(s);
    }
  }

  /** Ends holding back live messages for `s` (those held are dropped: they are stored). */
  end(s: BacklogSession): void {
    this.#syncing.delete(s);
    this.#resendAgain(s);
  }

  /**
   * Sends `s` all its stored receipts and messages again; `attached` says
   * whether it still receives messages. Asked while `s` catches up or a
   * resend runs, it runs once after that (what that pass read may predate
   * what this one is for, such as another server's late write), however
   * often it was asked meanwhile.
   */
  resend(s: BacklogSession, attached: () => boolean): void {
    if (this.#stopped) return;
    if (this.#syncing.has(s) || this.#resending.has(s)) {
      this.#again.set(s, attached);
      return;
    }
    this.#resending.add(s);
    (async () => {
      await this.#writer.flush();
      if (!attached()) return;
      // A receipt stored while its sender was online on another server (the
      // link there was down) would otherwise wait for the sender's next login.
      await this.#sendReceipts(s);
      await this.#sendStored(s, { dm: 0, group: 0 }, null);
    })().catch((e) => this.#log.warn("resync_failed", { user: s.user, error: String(e) }))
      .finally(() => {
        this.#resending.delete(s);
        this.#resendAgain(s);
      });
  }

  /** Runs the resend asked for while `s` was busy, if any. */
  #resendAgain(s: BacklogSession): void {
    const attached = this.#again.get(s);
    if (!attached) return;
    this.#again.delete(s);
    this.resend(s, attached);
  }

  /** Ignores {@link resend} from now on (the server is shutting down). */
  stop(): void {
    this.#stopped = true;
    this.#again.clear();
  }

  /** Sends `s` the receipts stored for its user (the client acknowledges them with `rack`). */
  async #sendReceipts(s: BacklogSession): Promise<void> {
    for (const r of await this.#store.pendingReceipts(s.user)) {
      s.confirmDelivered(r.recipient, r.id, true);
    }
  }

  /**
   * Sends stored direct messages, then stored group entries, after the
   * cursor's positions (by seq), paced by the outbound queue.
   */
  async #sendStored(s: BacklogSession, from: Cursor, sent: Set<string> | null): Promise<Cursor> {
    const after = { ...from };
    while (!s.closed) {
      const rows = await this.#store.pendingFor(s.user, after.dm, PAGE);
      for (const m of rows) {
        sent?.add(m.sender + "\n" + m.id);
        s.deliver(encodePayload(msgFrame(m)));
        after.dm = m.seq!;
        if (s.congested) await s.writable();
      }
      if (rows.length < PAGE) break;
    }
    while (this.#groupLog && !s.closed) {
      const rows = await this.#groupLog.pendingFor(s.user, after.group, PAGE);
      for (const e of rows) {
        sent?.add(e.sender + "\n" + e.id);
        s.deliver(encodePayload(msgFrame({
          id: e.id,
          sender: e.sender,
          recipient: e.group,
          kind: e.kind,
          body: e.body,
          sentAt: e.sentAt,
        })));
        after.group = e.seq;
        if (s.congested) await s.writable();
      }
      if (rows.length < PAGE) break;
    }
    return after;
  }
}
