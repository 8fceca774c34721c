/**
 * Sent texts on their way to the local history. A text is appended only
 * once its frame is written to the outbox log, so a message the history
 * shows is on disk until the server confirms it (a crash loses none of
 * them: the next login sends again what is pending). The texts of one frame
 * go in one append, i.e. one write.
 *
 * @example
 * ```ts
 * import { SentHistory } from "@fastchat/client/sent_history";
 * import type { UserHome } from "@fastchat/client/user_home";
 * declare const home: UserHome;
 * declare const vaultKey: CryptoKey;
 * const sent = new SentHistory((e) => console.error(e));
 * sent.add(home, vaultKey, [
 *   { id: "AAAAAAAAAAAAAAAAAAAAAA", peer: "bob", from: "alice", to: "bob", text: "hi", sentAt: 0 },
 * ], Promise.resolve());
 * await sent.settled();
 * ```
 * @module
 */
import type { HistoryRecord, UserHome } from "./user_home.ts";

/**
 * Appends sent texts to the history after their outbox write.
 *
 * @example
 * ```ts
 * import { SentHistory } from "@fastchat/client/sent_history";
 * const sent = new SentHistory(() => {});
 * await sent.settled(); // nothing pending
 * ```
 */
export class SentHistory {
  readonly #onError: (e: unknown) => void;
  readonly #pending = new Set<Promise<void>>();

  /** `onError` hears of appends that failed (a failed outbox write is reported by the outbox). */
  constructor(onError: (e: unknown) => void) {
    this.#onError = onError;
  }

  /** Appends still waiting or running. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Appends `records` (the texts of one frame) to `home`'s history once
   * `written` (the frame's outbox write) resolves; nothing if it rejects.
   */
  add(home: UserHome, vaultKey: CryptoKey, records: HistoryRecord[], written: Promise<void>): void {
    const appended: Promise<void> = written.then(
      () => home.appendHistory(vaultKey, ...records).catch((e) => this.#onError(e)),
      () => {}, // not on disk: not in the history either
    ).finally(() => this.#pending.delete(appended));
    this.#pending.add(appended);
  }

  /** Resolves once every append added so far (and any added meanwhile) has ended. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }
}
