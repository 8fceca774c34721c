/**
 * A {@link RoutedSession} for router tests: it records what the router hands
 * it (deliveries, `sent` confirmations, receipts, refusals) and lets a test
 * await a message's outcome instead of sleeping.
 *
 * @example
 * ```ts
 * import { RecordingSession } from "./recording_session.ts";
 * const alice = new RecordingSession("alice");
 * alice.confirmSent("m-00000001");
 * await alice.waitSent("m-00000001");
 * ```
 * @module
 */
import type { FastChatError } from "@fastchat/lib/errors";
import { decodeServerFrame } from "@fastchat/lib/protocol";
import type { RoutedSession } from "./message_router.ts";

/**
 * Records everything a router does to one session.
 *
 * @example
 * ```ts
 * import { RecordingSession } from "./recording_session.ts";
 * const bob = new RecordingSession("bob");
 * bob.deliver(new Uint8Array([1]));
 * console.log(bob.delivered.length); // 1
 * ```
 */
export class RecordingSession implements RoutedSession {
  delivered: Uint8Array[] = [];
  sent: string[] = [];
  receipts: [string, string][] = [];
  /** Receipts the store keeps until acknowledged. */
  storedReceipts: [string, string][] = [];
  /** Messages the router refused after accepting them: [id, code]. */
  rejected: [string, string][] = [];
  /** Set by a test to model a closed connection (backlog delivery stops). */
  closed = false;
  /** Never congested: the backlog goes out unpaced. */
  readonly congested: boolean = false;
  #waiters = new Map<string, () => void>();
  #deliveryWaiters: (() => void)[] = [];
  constructor(readonly user: string) {}
  writable(): Promise<void> {
    return Promise.resolve();
  }
  deliver(p: Uint8Array): boolean {
    if (this.closed) return false;
    this.delivered.push(p);
    for (const w of this.#deliveryWaiters.splice(0)) w();
    return true;
  }
  /** Resolves once `n` frames have been delivered in all. */
  async waitDelivered(n: number): Promise<void> {
    while (this.delivered.length < n) {
      await new Promise<void>((r) => this.#deliveryWaiters.push(r));
    }
  }
  /** Ids of the `msg` frames delivered, in order. */
  get deliveredIds(): string[] {
    return this.delivered.map((p) => (decodeServerFrame(p) as { id: string }).id);
  }
  confirmSent(id: string): void {
    this.sent.push(id);
    this.#settle(id);
  }
  rejectSent(id: string, err: FastChatError): void {
    this.rejected.push([id, err.code]);
    this.#settle(id);
  }
  confirmDelivered(peer: string, id: string, stored: boolean): void {
    this.receipts.push([peer, id]);
    if (stored) this.storedReceipts.push([peer, id]);
  }
  /** Resolves when `id` is confirmed as sent. */
  waitSent(id: string): Promise<void> {
    return this.waitOutcome(id);
  }
  /** Resolves when `id` is confirmed or refused. */
  waitOutcome(id: string): Promise<void> {
    if (this.sent.includes(id) || this.rejected.some(([r]) => r === id)) return Promise.resolve();
    return new Promise((r) => this.#waiters.set(id, r));
  }
  #settle(id: string): void {
    const w = this.#waiters.get(id);
    this.#waiters.delete(id);
    w?.();
  }
}
