/**
 * The way out for what a user sends directly: sealed to the contact's
 * session key, written to the outbox (durable until the server confirms),
 * sent on the link, and, once its outbox write is done, added to the local
 * history. A message the history shows is pending on disk until confirmed,
 * so a crash loses none of them (the next login sends what is pending
 * again). Direct texts of one tick to one contact are sealed together
 * (`DirectSender`); {@link OutgoingMessages.trySend} takes that path
 * without a promise when the key, the outbox and the link are ready.
 *
 * @example
 * ```ts
 * import { OutgoingMessages } from "@fastchat/client/outgoing_messages";
 * declare const out: OutgoingMessages;
 * const id = out.trySend("bob", "hi") ?? await out.sendDirect("bob", new TextEncoder().encode("hi"), "hi");
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import type { ClientFrame, ClientFrameOf } from "@fastchat/lib/protocol";
import { DirectSender } from "./direct_sender.ts";
import type { ClientEvent } from "./events.ts";
import type { KeyManager } from "./key_manager.ts";
import { checkUsername, type LoggedIn } from "./login_flow.ts";
import { memberId } from "./message_batch.ts";
import { sealDirectContent } from "./message_body.ts";
import type { BatchItem } from "./message_content.ts";
import type { Outbox, OutboxFrame } from "./outbox.ts";
import { SentHistory } from "./sent_history.ts";

/**
 * A logged-in user as the send path needs it.
 *
 * @example
 * ```ts
 * import type { SendingSession } from "@fastchat/client/outgoing_messages";
 * declare const s: SendingSession;
 * console.log(s.user);
 * ```
 */
export type SendingSession = Omit<LoggedIn, "state"> & { keys: KeyManager };

/**
 * What {@link OutgoingMessages} uses of its client.
 *
 * @example
 * ```ts
 * import type { OutgoingMessagesDeps } from "@fastchat/client/outgoing_messages";
 * declare const deps: OutgoingMessagesDeps;
 * deps.history; // whether sent texts go to the local history
 * ```
 */
export interface OutgoingMessagesDeps {
  outbox: Outbox;
  /** The connection to the server (or the wait for it). */
  link: { send(f: ClientFrame): unknown; readonly isWritable: boolean; writable(): Promise<void> };
  /** The logged-in user, or null. */
  session(): SendingSession | null;
  /** `id` is a message the client sends for itself: no sent/delivered events. */
  markInternal(id: string): void;
  /** Whether sent texts go to the local history. */
  history: boolean;
  emit(e: ClientEvent): void;
}

/**
 * Direct messages on their way out: outbox, wire, history.
 *
 * @example
 * ```ts
 * import { OutgoingMessages, type OutgoingMessagesDeps } from "@fastchat/client/outgoing_messages";
 * declare const deps: OutgoingMessagesDeps;
 * const out = new OutgoingMessages(deps);
 * out.flush(); // seal the texts of this tick now
 * ```
 */
export class OutgoingMessages {
  readonly #d: OutgoingMessagesDeps;
  /** Direct texts of this tick, sealed together per contact. */
  readonly #direct = new DirectSender((frame, first, items) =>
    this.#deliverDirect(frame, first, items)
  );
  /** Sent texts waiting for their outbox write before they enter the history. */
  readonly #sent: SentHistory;

  constructor(deps: OutgoingMessagesDeps) {
    this.#d = deps;
    this.#sent = new SentHistory((e) =>
      deps.emit({ event: "error", code: "INTERNAL", message: `history: ${e}` })
    );
  }

  /** Frames of this tick not sealed yet. */
  get frames(): number {
    return this.#direct.frames;
  }

  /** Seals the texts of this tick now (into the outbox and onto the wire). */
  flush(): void {
    this.#direct.flush();
  }

  /** Resolves once every sent text whose outbox write is done is in the history. */
  settled(): Promise<void> {
    return this.#sent.settled();
  }

  /**
   * Queues a sealed frame: outbox first (durable), then the wire; resolves
   * once the link takes more, with the promise of the frame's outbox write
   * (whose failure the outbox reports, once per batch).
   */
  async queue(frame: ClientFrameOf<"send">): Promise<{ written: Promise<void> }> {
    const { outbox, link } = this.#d;
    this.#direct.flush(); // texts of this tick go first, in order
    const written = outbox.tryEnqueue(frame) ?? (await outbox.enqueue(frame)).written;
    link.send(frame);
    if (!link.isWritable) await link.writable();
    return { written };
  }

  /**
   * Seals `content` to `to` and sends it; resolves with its id once queued.
   * `text` (when it is a text) goes to the history; `internal` messages
   * (group-key handovers) show no events.
   */
  async sendDirect(
    to: string,
    content: Uint8Array,
    text: string | null,
    file?: string,
    internal = false,
  ): Promise<string> {
    const s = this.#d.session();
    if (!s) throw new FastChatError("NOT_AUTHENTICATED", "log in first");
    checkUsername(to);
    const key = s.keys.outgoingReady(to) ?? await s.keys.outgoing(to);
    const frame = sealDirectContent(s.user, to, content, key);
    if (file !== undefined) frame.file = file;
    if (internal) this.#d.markInternal(frame.id);
    // The outbox log is written (batched with the sends of the next 20 ms)
    // while the frame goes out, and the history only after it.
    const { written } = await this.queue(frame);
    if (text !== null) this.#toHistory(s, frame, frame.id, [{ text, ts: frame.ts }], written);
    return frame.id;
  }

  /**
   * A direct text sent without a promise, when its session key is ready and
   * the outbox and the link have room: its id, or null (nothing sent: use
   * {@link OutgoingMessages.sendDirect}). Throws for a bad name.
   */
  trySend(to: string, text: string): string | null {
    const { outbox, link } = this.#d;
    const s = this.#d.session();
    if (!s || to.startsWith("#") || !link.isWritable) return null;
    if (outbox.size + this.#direct.frames >= outbox.maxPending) return null;
    checkUsername(to);
    const key = s.keys.outgoingReady(to);
    if (!key) return null;
    return this.#direct.add(s.user, to, text, key);
  }

  /** A frame of direct texts is sealed: outbox (durable) and wire, then the history. */
  #deliverDirect(frame: ClientFrameOf<"send">, first: string, items: BatchItem[]): void {
    const { outbox, link } = this.#d;
    const s = this.#d.session();
    const written = outbox.tryEnqueue(frame); // room was counted by trySend
    if (written) {
      link.send(frame);
      if (s) this.#toHistory(s, frame, first, items, written);
      return;
    }
    // Only if something else filled the outbox meanwhile: it waits for room.
    outbox.enqueue(frame).then(({ written }) => {
      link.send(frame);
      if (s) this.#toHistory(s, frame, first, items, written);
    }, (e) => this.#d.emit({ event: "error", code: "INTERNAL", message: `outbox: ${e}` }));
  }

  /** Appends sent texts to the history once their frame's outbox write is done. */
  #toHistory(
    s: SendingSession,
    frame: OutboxFrame,
    first: string,
    items: BatchItem[],
    written: Promise<void>,
  ): void {
    if (!this.#d.history) return;
    const to = frame.to;
    this.#sent.add(
      s.home,
      s.vaultKey,
      items.map(({ text, ts }, i) => ({
        id: memberId(first, i),
        peer: to,
        from: s.user,
        to,
        text,
        sentAt: ts,
      })),
      written,
    );
  }
}
