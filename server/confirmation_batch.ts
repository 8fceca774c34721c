/**
 * A session's `sent` and `delivered` confirmations, gathered while the
 * current task runs and sent as one frame per kind (`sent`, `delivered`,
 * `delivered` with `stored`) in a microtask after it: a write-behind batch
 * or a frame of acknowledgements confirms many messages at once.
 *
 * @example
 * ```ts
 * import { ConfirmationBatch } from "@fastchat/server/confirmation_batch";
 * const batch = new ConfirmationBatch((f) => console.log(f));
 * batch.sent("m-00000001");
 * batch.sent("m-00000002");
 * batch.delivered("bob", "m-00000003", false);
 * // later in this task's microtasks: { t: "sent", ids: [...] }, then { t: "delivered", items: [...] }
 * ```
 * @module
 */
import type { ServerFrame } from "@fastchat/lib/protocol";

/**
 * Confirmations waiting for the end of the current task.
 *
 * @example
 * ```ts
 * import { ConfirmationBatch } from "@fastchat/server/confirmation_batch";
 * const frames: unknown[] = [];
 * const batch = new ConfirmationBatch((f) => frames.push(f));
 * batch.delivered("bob", "m-00000001", true);
 * await Promise.resolve();
 * console.log(frames); // [{ t: "delivered", items: [["bob", "m-00000001"]], stored: true }]
 * ```
 */
export class ConfirmationBatch {
  readonly #send: (f: ServerFrame) => void;
  #sent: string[] = [];
  #delivered: [string, string][] = [];
  #deliveredStored: [string, string][] = [];
  #queued = false;

  /** `send` gets each frame. */
  constructor(send: (f: ServerFrame) => void) {
    this.#send = send;
  }

  /** Message `id` is durable (or delivered): its sender may forget it. */
  sent(id: string): void {
    this.#sent.push(id);
    this.#queue();
  }

  /** Message `id` reached `peer`; `stored`: the receipt is stored until acknowledged. */
  delivered(peer: string, id: string, stored: boolean): void {
    (stored ? this.#deliveredStored : this.#delivered).push([peer, id]);
    this.#queue();
  }

  #queue(): void {
    if (this.#queued) return;
    this.#queued = true;
    queueMicrotask(this.#flush);
  }

  readonly #flush = (): void => {
    this.#queued = false;
    if (this.#sent.length > 0) {
      this.#send({ t: "sent", ids: this.#sent });
      this.#sent = [];
    }
    if (this.#delivered.length > 0) {
      this.#send({ t: "delivered", items: this.#delivered });
      this.#delivered = [];
    }
    if (this.#deliveredStored.length > 0) {
      this.#send({ t: "delivered", items: this.#deliveredStored, stored: true });
      this.#deliveredStored = [];
    }
  };
}
