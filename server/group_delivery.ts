/**
 * Group delivery: group messages are stored first, then fanned out. Sends
 * are appended to the group log in batches (one statement per batch stores
 * each message once, checks its sender is a member and creates one pending
 * row per member); a stored message is confirmed to its sender (`sent`),
 * delivered to members connected here, and forwarded once per other server
 * where members are connected, with the list of those members. Membership
 * events take the same path. Acknowledgements from members are batched into
 * the group log (and release the files the messages carried). Memory is
 * bounded: past `maxPending` queued sends, senders are paused.
 *
 * @example
 * ```ts
 * import { GroupDelivery } from "@fastchat/server/group_delivery";
 * import { GroupLog } from "@fastchat/server/group_log";
 * import { LocalFabric } from "@fastchat/server/fabric";
 * declare const log: GroupLog;
 * const groups = new GroupDelivery(log, new LocalFabric(), { deliverLocal: () => 0 });
 * await groups.flush();
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import { type Logger, nullLogger } from "@fastchat/lib/logger";
import { type ClientFrameOf, encodePayload } from "@fastchat/lib/protocol";
import { isTransientStoreError } from "./batch_insert.ts";
import type { Fabric } from "./fabric.ts";
import type { FileStore } from "./file_store.ts";
import type { GroupLog, GroupLogEntry, GroupMessageRow } from "./group_log.ts";
import { msgFrame } from "./msg_frame.ts";
import type { ForwardedGroupMessage } from "./peer_protocol.ts";
import type { QueuedSender } from "./write_behind_queue.ts";

/**
 * A session that sends group messages.
 *
 * @example
 * ```ts
 * const s: GroupSender = { user: "alice", confirmSent: () => {}, rejectSent: () => {} };
 * ```
 */
export interface GroupSender extends QueuedSender {
  /** Who is sending. */
  readonly user: string;
}

/**
 * Options of a {@link GroupDelivery}.
 *
 * @example
 * ```ts
 * const o: GroupDeliveryOptions = { deliverLocal: () => 0, maxPending: 10_000 };
 * ```
 */
export interface GroupDeliveryOptions {
  /** Delivers an encoded `msg` frame to `user`'s live sessions here; returns how many. */
  deliverLocal(user: string, payload: Uint8Array, sender: string, id: string): number;
  /** Files, attached to group messages that carry one and released on acks. */
  files?: FileStore;
  /** Queued sends before senders are paused (default 10,000). */
  maxPending?: number;
  /** Where failures are reported. */
  logger?: Logger;
}

interface Pending {
  row: GroupMessageRow;
  sender: GroupSender;
  file?: string;
}

interface Ack {
  user: string;
  sender: string;
  id: string;
}

const RETRY_MS = [50, 100, 250, 500, 1000, 2000, 5000];

/** Stores, confirms and fans out group messages; batches members' acknowledgements. */
export class GroupDelivery {
  readonly #log: GroupLog;
  readonly #fabric: Fabric;
  readonly #opts: GroupDeliveryOptions;
  readonly #logger: Logger;
  readonly #maxPending: number;
  #queue: Pending[] = [];
  #acks: Ack[] = [];
  #fileAcks: Ack[] = [];
  #running: Promise<void> | null = null;
  #roomWaiters: (() => void)[] = [];
  #closed = false;
  /** Sends queued and sends settled (stored or refused) so far; batches settle in order. */
  #seqQueued = 0;
  #seqSettled = 0;
  /** The sequence number of each sender's latest queued send. */
  readonly #lastSeq = new WeakMap<GroupSender, number>();
  #settleWaiters: { seq: number; resolve: () => void }[] = [];
  /** Counters for metrics. */
  readonly stats = { stored: 0, delivered: 0, forwarded: 0, refused: 0 };

  /** Writes to `log`, forwards through `fabric`. */
  constructor(log: GroupLog, fabric: Fabric, opts: GroupDeliveryOptions) {
    this.#log = log;
    this.#fabric = fabric;
    this.#opts = opts;
    this.#logger = opts.logger ?? nullLogger;
    this.#maxPending = opts.maxPending ?? 10_000;
  }

  /**
   * Queues `f` (kind `group`) from `sender`; the sender hears `sent` once it
   * is stored, or `NOT_GROUP_MEMBER`. Returns a promise while the queue is
   * full: await it before reading more from that sender.
   */
  accept(sender: GroupSender, f: ClientFrameOf<"send">): Promise<void> | void {
    if (f.env) throw new FastChatError("BAD_REQUEST", "group messages carry no key envelope");
    this.#queue.push({
      row: { group: f.to, sender: sender.user, id: f.id, body: f.body, sentAt: f.ts },
      sender,
      file: f.file,
    });
    this.#lastSeq.set(sender, ++this.#seqQueued);
    this.#kick();
    if (this.#queue.length < this.#maxPending) return;
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /**
   * Resolves once every group message `sender` queued so far is stored or
   * refused (undefined when none is waiting), so a membership request the
   * sender makes next (say `leave`) takes effect after its earlier messages,
   * in the order the client sent them.
   */
  settled(sender: GroupSender): Promise<void> | undefined {
    const seq = this.#lastSeq.get(sender);
    if (seq === undefined || seq <= this.#seqSettled) return undefined;
    return new Promise((resolve) => this.#settleWaiters.push({ seq, resolve }));
  }

  /** Fans out entries already stored (membership events). */
  publish(entries: GroupLogEntry[]): void {
    for (const e of entries) this.#fanOut(e);
  }

  /** Members connected here acknowledged these entries ([from, id]). */
  ack(user: string, items: [string, string][], files: [string, string][] = []): void {
    for (const [sender, id] of items) this.#acks.push({ user, sender, id });
    for (const [sender, id] of files) this.#fileAcks.push({ user, sender, id });
    this.#kick();
  }

  /** Group messages another server forwarded for members connected here. */
  deliverForwarded(msgs: ForwardedGroupMessage[]): void {
    for (const [id, from, , payload, recipients] of msgs) {
      for (const r of recipients) {
        this.stats.delivered += this.#opts.deliverLocal(r, payload, from, id);
      }
    }
  }

  /** Resolves once everything queued so far is written. */
  async flush(): Promise<void> {
    while (this.#running || this.#queue.length || this.#acks.length || this.#fileAcks.length) {
      this.#kick();
      await this.#running;
    }
  }

  /** Stops retrying; queued sends are refused with `SERVER_SHUTTING_DOWN`. */
  close(): void {
    this.#closed = true;
  }

  #kick(): void {
    if (this.#running) return;
    this.#running = (async () => {
      // Let the current turn's frames join the batch.
      await new Promise((r) => setTimeout(r, 0));
      while (this.#queue.length || this.#acks.length || this.#fileAcks.length) {
        await this.#writeOnce();
      }
    })().finally(() => {
      this.#running = null;
    });
  }

  async #writeOnce(): Promise<void> {
    const batch = this.#queue.splice(0, 1000);
    const acks = this.#acks.splice(0, 4096);
    const fileAcks = this.#fileAcks.splice(0, 4096);
    while (this.#roomWaiters.length && this.#queue.length < this.#maxPending) {
      this.#roomWaiters.shift()!();
    }
    if (batch.length) {
      try {
        await this.#append(batch);
      } finally {
        this.#seqSettled += batch.length;
        const due = this.#settleWaiters.filter((w) => w.seq <= this.#seqSettled);
        if (due.length) {
          this.#settleWaiters = this.#settleWaiters.filter((w) => w.seq > this.#seqSettled);
          for (const w of due) w.resolve();
        }
      }
    }
    if (acks.length) {
      await this.#retrying("group_ack", () => this.#log.complete(acks)).catch((e) =>
        // Not lost: the entries stay pending and are delivered again at next login.
        this.#logger.warn("group_ack_failed", { count: acks.length, error: String(e) })
      );
    }
    if (fileAcks.length && this.#opts.files) {
      const files = this.#opts.files;
      await this.#retrying("file_release", () => files.release(fileAcks)).catch((e) =>
        // Not lost: unreleased files are deleted when their retention ends.
        this.#logger.warn("file_release_failed", { count: fileAcks.length, error: String(e) })
      );
    }
  }

  async #append(batch: Pending[]): Promise<void> {
    let results;
    try {
      results = await this.#retrying(
        "group_append",
        () => this.#log.append(batch.map((p) => p.row)),
      );
    } catch (e) {
      const err = this.#closed
        ? new FastChatError("SERVER_SHUTTING_DOWN", "the server is stopping; send again")
        : new FastChatError("STORE_FAILED", "the group message could not be stored");
      this.#logger.error("group_append_failed", { count: batch.length, error: String(e) });
      for (const p of batch) p.sender.rejectSent(p.row.id, err);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i];
      const r = results[i];
      if (r.status === "not_member") {
        this.stats.refused++;
        p.sender.rejectSent(
          p.row.id,
          new FastChatError("NOT_GROUP_MEMBER", `you are not a member of #${p.row.group}`),
        );
        continue;
      }
      if (r.status === "stored" && p.file && this.#opts.files) {
        try {
          await this.#opts.files.attach(p.file, p.row.sender, p.row.id, r.entry.recipients);
        } catch (e) {
          // The message is stored; its recipients will find the file missing (TRANSFER_FAILED).
          this.#logger.warn("file_attach_failed", { id: p.row.id, error: String(e) });
          p.sender.rejectSent(p.row.id, FastChatError.from(e, "TRANSFER_FAILED"));
          continue;
        }
      }
      p.sender.confirmSent(p.row.id);
      if (r.status === "stored") {
        this.stats.stored++;
        this.#fanOut(r.entry);
      }
    }
  }

  #fanOut(e: GroupLogEntry): void {
    const payload = encodePayload(msgFrame({
      id: e.id,
      sender: e.sender,
      recipient: e.group,
      kind: e.kind,
      body: e.body,
      sentAt: e.sentAt,
    }));
    const remote = new Map<string, string[]>();
    for (const r of e.recipients) {
      this.stats.delivered += this.#opts.deliverLocal(r, payload, e.sender, e.id);
      for (const server of this.#fabric.serversOf(r)) {
        let list = remote.get(server);
        if (!list) remote.set(server, list = []);
        list.push(r);
      }
    }
    for (const [server, users] of remote) {
      this.#fabric.forwardGroup(server, [e.id, e.sender, e.group, payload, users]);
      this.stats.forwarded++;
    }
  }

  async #retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0;; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (this.#closed || !isTransientStoreError(e) || attempt >= RETRY_MS.length) throw e;
        this.#logger.warn("group_store_retry", { what, attempt, error: String(e) });
        await new Promise((r) => setTimeout(r, RETRY_MS[attempt]));
      }
    }
  }
}
