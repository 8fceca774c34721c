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
  #waiters = new Map<string, () => void>();
  constructor(readonly user: string) {}
  deliver(p: Uint8Array): boolean {
    this.delivered.push(p);
    return true;
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
