/**
 * The client's receive pipeline: messages are processed strictly in
 * arrival order — synchronously while their session key is cached, else
 * after fetching and opening the key envelope — decrypted, de-duplicated by
 * id, shown, written to the history, and acknowledged in batches.
 * Undecryptable messages are reported and acknowledged (they would never
 * decrypt), transient failures are not (the server redelivers them).
 *
 * @example
 * ```ts
 * import { Inbox } from "@fastchat/client/inbox";
 * const inbox = new Inbox({
 *   emit: (e) => console.log(e),
 *   sendAcks: (items) => { console.log("ack", items.length); return true; },
 *   history: false,
 * });
 * ```
 * @module
 */
import { messageAadView } from "@fastchat/lib/crypto";
import { openChatMessage } from "@fastchat/lib/crypto/chat_aead";
import { decodeGroupEvent, type GroupEventRecord } from "@fastchat/lib/group_event";
import { FastChatError } from "@fastchat/lib/errors";
import type { ServerFrameOf } from "@fastchat/lib/protocol";
import { type AckBatcher, processAckBatcher } from "./ack_batcher.ts";
import type { ClientEvent } from "./events.ts";
import { type GroupContent, openGroupMessage, type SenderKeyLookup } from "./group_message_open.ts";
import type { IncomingKey, KeyManager } from "./key_manager.ts";
import { type MessageBody, parseBody } from "./message_body.ts";
import { type BatchItem, decodeContent, type FileDescription } from "./message_content.ts";
import { batchSize, firstMember, memberId } from "./message_batch.ts";
import type { SenderKeyRing } from "./sender_keys.ts";
import { SeenIds } from "./seen_ids.ts";
import type { HistoryRecord, UserHome } from "./user_home.ts";

export { ACK_DELAY_MS } from "./ack_batcher.ts";

/** The logged-in user the inbox decrypts for. */
export interface InboxSession {
  user: string;
  keys: KeyManager;
  home: UserHome;
  vaultKey: CryptoKey;
}

/** What the inbox needs from the client. */
export interface InboxDeps {
  emit: (e: ClientEvent) => void;
  /** Sends an `ack` frame; false when not connected (acks are kept and retried). */
  sendAcks: (
    items: [string, string][],
    groups?: [string, string][],
    files?: [string, string][],
  ) => boolean;
  /** Group sender keys (received ones are added here). */
  senderKeys?: SenderKeyRing;
  /** The sender keys changed (save them). */
  onChange?: () => void;
  /** A membership event arrived (after it was shown). */
  onGroupEvent?: (e: GroupEventRecord) => void;
  /**
   * A file arrived: the callback downloads it and resolves once it is
   * complete (or throws); the message is acknowledged only then.
   */
  onFile?: (
    m: { id: string; from: string; group?: string; file: FileDescription },
  ) => Promise<void>;
  /** Write received messages to the encrypted history before acknowledging. */
  history: boolean;
  /** Batches the acknowledgements (default: the one every client of the process shares). */
  acks?: AckBatcher;
  /**
   * After `sendAcks` returned false: resolves when the connection's
   * outbound queue has drained (the acks are then sent again), or null when
   * there is no connection (they go out after the reconnect instead).
   */
  ackRoom?: () => Promise<void> | null;
}

type Msg = ServerFrameOf<"msg">;

/**
 * Failures that are final: the message is malformed, or authentic but
 * undecryptable under the pinned key. Anything else — a key or envelope
 * fetch lost with the connection, a store that is down, a key the server
 * does not have yet (`UNKNOWN_KEY`) — is left unacknowledged for redelivery.
 */
const CRYPTO_CODES = new Set(["DECRYPT_FAILED", "BAD_SIGNATURE", "BAD_REQUEST"]);

/**
 * Ordered decrypt → show → acknowledge pipeline.
 *
 * @example
 * ```ts
 * import { Inbox } from "@fastchat/client/inbox";
 * declare const inbox: Inbox;
 * await inbox.idle(); // everything received so far has been processed
 * ```
 */
export class Inbox {
  readonly #d: InboxDeps;
  readonly #batcher: AckBatcher;
  #session: InboxSession | null = null;
  #queue: Msg[] = [];
  /** Messages from contacts blocked by a key change: not acknowledged, retried after /trust. */
  #held: Msg[] = [];
  #running = false;
  #idleWaiters: (() => void)[] = [];
  #acks: [string, string][] = [];
  #groupAcks: [string, string][] = [];
  /** Acknowledged messages that carried a file (the server then releases it). */
  #fileAcks: [string, string][] = [];
  /** Group messages whose sender key has not arrived yet (unacknowledged, bounded). */
  #awaitingKey: Msg[] = [];
  #ackQueued = false;
  /** Waiting for the outbound queue to drain before sending the acks again. */
  #ackRetrying = false;
  #seen = new SeenIds();
  /** Group members' sender keys (none without a ring: group messages then wait). */
  readonly #senderKey: SenderKeyLookup = (group, member, kid) =>
    this.#d.senderKeys?.lookup(group, member, kid);

  constructor(deps: InboxDeps) {
    this.#d = deps;
    this.#batcher = deps.acks ?? processAckBatcher;
  }

  /** Starts processing for `session` (messages received before are queued). */
  start(session: InboxSession): void {
    this.#session = session;
    this.#kick();
  }

  /** Stops processing and forgets what was seen (logout). */
  stop(): void {
    this.#session = null;
    this.#queue = [];
    this.#held = [];
    this.#awaitingKey = [];
    this.#seen.clear();
  }

  /**
   * Marks what the local history of `session` holds (the last 10,000
   * messages) as already shown, so redeliveries of them are not shown
   * again. An unreadable history is reported, not fatal.
   */
  async rememberHistory(session: Pick<InboxSession, "home" | "vaultKey">): Promise<void> {
    if (!this.#d.history) return;
    try {
      for (const r of await session.home.readHistory(session.vaultKey, null, 10_000)) {
        this.markSeen(r.from, r.id);
      }
    } catch (e) {
      const err = FastChatError.from(e);
      this.#d.emit({
        event: "error",
        code: err.code,
        message: `local history unreadable: ${err.message}`,
      });
    }
  }

  /** Marks a message as already shown (e.g. found in the local history). */
  markSeen(from: string, id: string): void {
    this.#seen.add(from, id);
  }

  /** Queues a received message. */
  push(f: Msg): void {
    this.#queue.push(f);
    this.#kick();
  }

  /** Resolves when every queued message has been processed. */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && !this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Sends pending acknowledgements now (after a reconnect, or before closing). */
  flushAcks(): void {
    this.#ackQueued = false;
    this.#batcher.cancel(this);
    while (this.#acks.length > 0 || this.#groupAcks.length > 0 || this.#fileAcks.length > 0) {
      const items = this.#acks.slice(0, 4096);
      const groups = this.#groupAcks.slice(0, 4096);
      const files = this.#fileAcks.slice(0, 4096);
      const sent = this.#d.sendAcks(
        items,
        groups.length ? groups : undefined,
        files.length ? files : undefined,
      );
      if (!sent) return this.#retryAcksWhenRoom();
      this.#acks.splice(0, items.length);
      this.#groupAcks.splice(0, groups.length);
      this.#fileAcks.splice(0, files.length);
    }
  }

  /**
   * The acks did not fit the outbound queue: sends them again once it has
   * drained, not only when the next message is acknowledged (there may be none).
   */
  #retryAcksWhenRoom(): void {
    if (this.#ackRetrying) return;
    const room = this.#d.ackRoom?.();
    if (!room) return;
    this.#ackRetrying = true;
    room.then(() => {
      this.#ackRetrying = false;
      this.flushAcks();
    });
  }

  #kick(): void {
    const s = this.#session;
    if (!s || this.#running) return;
    while (this.#queue.length > 0) {
      const f = this.#queue[0];
      if (f.kind === "event") {
        this.#queue.shift();
        this.#groupEvent(f);
        continue;
      }
      if (f.kind === "group") {
        this.#queue.shift();
        this.#groupMessage(f);
        continue;
      }
      let body: MessageBody;
      try {
        body = parseBody(f.body);
      } catch (e) {
        this.#queue.shift();
        this.#reject(f, e);
        continue;
      }
      const key = s.keys.incomingReady(f.from, body.k);
      if (!key) {
        this.#openThenContinue(s, f, body);
        return;
      }
      this.#queue.shift();
      this.#finish(s, f, body, key);
    }
    for (const w of this.#idleWaiters.splice(0)) w();
  }

  async #openThenContinue(s: InboxSession, f: Msg, body: MessageBody): Promise<void> {
    this.#running = true;
    try {
      const key = await s.keys.incoming(f.from, body.k, f.env);
      if (this.#queue[0] === f) {
        this.#queue.shift();
        this.#finish(s, f, body, key);
      }
    } catch (e) {
      if (this.#queue[0] === f) this.#queue.shift();
      this.#reject(f, e);
    } finally {
      this.#running = false;
    }
    if (this.#session === s) this.#kick();
  }

  /** Processes again the messages held while `from` was blocked by a key change. */
  releaseHeld(from: string): void {
    const mine = this.#held.filter((f) => f.from === from);
    this.#held = this.#held.filter((f) => f.from !== from);
    for (const f of mine) this.push(f);
  }

  #reject(f: Msg, e: unknown, acked = false): void {
    const err = FastChatError.from(e);
    if (acked) return this.#emitError(f, err);
    // Sender's keys changed and are not trusted yet: hold it, unacknowledged.
    if (err.code === "KEY_CHANGED" && this.#held.length < 10_000) this.#held.push(f);
    // Undecryptable for good: acknowledge so it is not redelivered forever.
    if (CRYPTO_CODES.has(err.code)) this.#ack(f.from, f.id);
    this.#emitError(f, err);
  }

  /** Reports `e` for message `f`. */
  #emitError(f: Msg, e: unknown): void {
    const err = FastChatError.from(e);
    this.#d.emit({ event: "error", code: err.code, message: err.message, id: f.id, from: f.from });
  }

  /** A membership event: shown, handed on, acknowledged. */
  #groupEvent(f: Msg): void {
    if (this.#alreadySeen(f, true)) return;
    let ev: GroupEventRecord;
    try {
      ev = decodeGroupEvent(f.body);
    } catch (e) {
      this.#groupAck(f.from, f.id); // malformed for good: never show it, never see it again
      return this.#emitError(f, e);
    }
    this.#markShown(f);
    const out: ClientEvent = {
      event: "group",
      group: ev.group,
      change: ev.change,
      user: ev.user,
      by: ev.by,
    };
    if (ev.members) out.members = ev.members;
    this.#d.emit(out);
    this.#d.onGroupEvent?.(ev);
    this.#groupAck(f.from, f.id);
  }

  /** A group message: opened with its sender's key for the group, or held until the key comes. */
  #groupMessage(f: Msg): void {
    if (this.#alreadySeen(f, true)) return;
    let c: GroupContent | null;
    try {
      c = openGroupMessage(f, this.#senderKey);
    } catch (e) {
      this.#groupAck(f.from, f.id);
      return this.#reject(f, e, true);
    }
    if (c === null) {
      // Its key is on the way (keys travel as direct messages): keep it unacknowledged.
      if (this.#awaitingKey.length < 10_000) this.#awaitingKey.push(f);
      return;
    }
    this.#markShown(f);
    if (c.type === "file") {
      return this.#file(f, c.file, f.to, () => this.#groupAck(f.from, f.id));
    }
    this.#d.emit({
      event: "message",
      id: f.id,
      from: f.from,
      group: f.to,
      text: c.text,
      sent_at: f.ts,
    });
    this.#groupAck(f.from, f.id);
  }

  /** Sender keys that arrived: messages waiting for them go round again. */
  #releaseAwaiting(group: string, from: string): void {
    const mine = this.#awaitingKey.filter((f) => f.to === group && f.from === from);
    if (mine.length === 0) return;
    this.#awaitingKey = this.#awaitingKey.filter((f) => !(f.to === group && f.from === from));
    this.#queue.push(...mine);
  }

  #file(f: Msg, file: FileDescription, group: string | undefined, acknowledge: () => void): void {
    const ack = () => {
      this.#fileAcks.push([f.from, f.id]);
      acknowledge();
    };
    const done = this.#d.onFile?.({ id: f.id, from: f.from, group, file });
    if (!done) {
      ack();
      return;
    }
    // Acknowledged once the file is complete on disk; a failed download is
    // reported and acknowledged too (the sender may send it again).
    done.then(ack, (e) => {
      const err = FastChatError.from(e, "TRANSFER_FAILED");
      this.#emitError(f, err);
      if (err.code === "TRANSFER_FAILED" || err.code === "FILE_NOT_FOUND") ack();
    });
  }

  #alreadySeen(f: Msg, group: boolean): boolean {
    if (!this.#seen.has(f.from, f.id)) return false;
    if (group) this.#groupAck(f.from, f.id);
    else this.#ack(f.from, f.id);
    return true;
  }

  #markShown(f: Msg): void {
    this.#seen.add(f.from, f.id);
  }

  #finish(s: InboxSession, f: Msg, body: MessageBody, key: IncomingKey): void {
    // A batch is remembered by its first text's id (what the history holds).
    const first = firstMember(f.id);
    if (this.#seen.has(f.from, first)) {
      this.#ack(f.from, f.id); // a redelivery of something already shown
      return;
    }
    let texts: BatchItem[] | null;
    let text = "";
    try {
      const c = decodeContent(openChatMessage(
        key.key,
        body.iv,
        body.c,
        messageAadView({
          kind: f.kind,
          from: f.from,
          to: f.to,
          id: f.id,
          sentAt: f.ts,
          kid: body.k,
        }),
      ));
      // The id (authenticated) announces how many texts the frame holds.
      if ((c.type === "batch" ? c.items.length : 1) !== batchSize(f.id)) {
        throw new FastChatError("DECRYPT_FAILED", `message ${f.id} does not hold what its id says`);
      }
      if (c.type === "sender_key") {
        this.#d.senderKeys?.addReceived(c.group, f.from, c.kid, c.key);
        this.#d.onChange?.();
        this.#ack(f.from, f.id);
        this.#releaseAwaiting(c.group, f.from);
        return;
      }
      if (c.type === "file") {
        this.#markShown(f);
        this.#file(f, c.file, undefined, () => this.#ack(f.from, f.id));
        return;
      }
      if (c.type === "batch") texts = c.items;
      else {
        texts = null; // one text (the common case: no arrays)
        text = c.text;
      }
    } catch (e) {
      this.#reject(f, e);
      return;
    }
    this.#seen.add(f.from, first);
    if (texts === null) {
      this.#d.emit({ event: "message", id: f.id, from: f.from, to: f.to, text, sent_at: f.ts });
      if (!this.#d.history) return this.#ack(f.from, f.id);
      this.#historyThenAck(s, f, [{
        id: f.id,
        peer: f.from,
        from: f.from,
        to: f.to,
        text,
        sentAt: f.ts,
      }]);
      return;
    }
    const records: HistoryRecord[] = [];
    for (let i = 0; i < texts.length; i++) {
      const { ts, text } = texts[i];
      const id = memberId(first, i);
      this.#d.emit({ event: "message", id, from: f.from, to: f.to, text, sent_at: ts });
      records.push({ id, peer: f.from, from: f.from, to: f.to, text, sentAt: ts });
    }
    this.#historyThenAck(s, f, records);
  }

  /**
   * Acknowledges `f` once `records` (its texts) are in the history, in one
   * append (a batch is there whole or not at all); at once without history.
   */
  #historyThenAck(s: InboxSession, f: Msg, records: HistoryRecord[]): void {
    if (!this.#d.history) {
      this.#ack(f.from, f.id);
      return;
    }
    s.home.appendHistory(s.vaultKey, ...records).then(() => this.#ack(f.from, f.id)).catch((e) =>
      this.#d.emit({ event: "error", code: "INTERNAL", message: `history: ${e}` })
    );
  }

  #groupAck(from: string, id: string): void {
    this.#queueAck(this.#groupAcks, from, id);
  }

  #ack(from: string, id: string): void {
    this.#queueAck(this.#acks, from, id);
  }

  /** Adds to `list` and makes sure a batched flush is scheduled. */
  #queueAck(list: [string, string][], from: string, id: string): void {
    list.push([from, id]);
    if (this.#ackQueued) return;
    this.#ackQueued = true;
    this.#batcher.schedule(this);
  }
}
