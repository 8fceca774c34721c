/**
 * The analysis of a `--mode group` run: group messages per second,
 * deliveries per second, latency per delivery, and lost and duplicated
 * deliveries per (message, receiver), judged against the groups' members
 * recorded in `run.json` (`groups`).
 *
 * Definitions (times are the logs' shared epoch-millisecond clock):
 * - **message**: a distinct id with a `sent` row whose peer is `#group`.
 * - **expected deliveries**: for each message, every member of its group
 *   except its sender.
 * - **delivery**: a distinct (message, receiver) pair with a `received` row
 *   in the receiver's log; **duplicate**: each further such row;
 *   **unexpected**: a reception by a non-member or of a message never sent.
 * - **lost**: expected deliveries that did not happen.
 * - **delivery latency**: first reception at a receiver − send time.
 * - **window**: first send to last delivery; the rates divide by it.
 *
 * @example
 * ```ts
 * import { EV_RECEIVED, EV_SENT } from "./client_log.ts";
 * import { GroupAccumulator } from "./group_analysis.ts";
 * const acc = new GroupAccumulator([{ name: "g", members: ["a", "b", "c"] }], ["a", "b", "c"]);
 * acc.sink(0, "m1", EV_SENT, 1000, 100, "#g", "group");
 * acc.sink(1, "m1", EV_RECEIVED, 1004, 100, "a", "group");
 * acc.sink(2, "m1", EV_RECEIVED, 1006, 100, "a", "group");
 * const s = acc.finish();
 * [s.deliveries, s.lostDeliveries, s.deliveryLatencyMs.max]; // [2, 0, 6]
 * ```
 * @module
 */
import { EV_RECEIVED, EV_SENT } from "./client_log.ts";
import type { GroupMembership } from "./group_plan.ts";
import type { RowSink } from "./log_reader.ts";
import { type LatencySummary, summarizeSorted } from "./percentiles.ts";
import { perSecond } from "./run_throughput.ts";

/**
 * The group figures of a run (NaN where unknown).
 *
 * @example
 * ```ts
 * import { GroupAccumulator, type GroupSummary } from "./group_analysis.ts";
 * const g: GroupSummary = new GroupAccumulator([], []).finish();
 * console.log(`${g.messagesPerSec} msg/s, ${g.deliveriesPerSec} deliveries/s`);
 * ```
 */
export interface GroupSummary {
  groups: number;
  /** Members of the largest group. */
  groupSize: number;
  /** Group messages sent. */
  messages: number;
  expectedDeliveries: number;
  deliveries: number;
  lostDeliveries: number;
  duplicateDeliveries: number;
  /** Messages at least one receiver got more than once. */
  duplicatedMessages: number;
  unexpectedDeliveries: number;
  /** First send to last delivery. */
  windowMs: number;
  messagesPerSec: number;
  deliveriesPerSec: number;
  deliveryLatencyMs: LatencySummary;
}

/**
 * Collects a group run's rows ({@link GroupAccumulator.sink}: a `RowSink`
 * whose file index is the position of the receiver in `users`) and computes
 * the {@link GroupSummary}.
 *
 * @example
 * ```ts
 * import { GroupAccumulator } from "./group_analysis.ts";
 * const acc = new GroupAccumulator([], []);
 * acc.finish().messages; // 0
 * ```
 */
export class GroupAccumulator {
  readonly #members: Map<string, Set<string>>;
  readonly #users: readonly string[];
  /** Per message id: [send time, group, sender]. */
  readonly #sent = new Map<string, { t: number; group: string; sender: string }>();
  /** Receptions in log order: message id, receiver (file index), time. */
  readonly #recvId: string[] = [];
  readonly #recvBy: number[] = [];
  readonly #recvT: number[] = [];

  /** `users[i]` owns client log `i`. */
  constructor(groups: readonly GroupMembership[], users: readonly string[]) {
    this.#members = new Map(groups.map((g) => [g.name, new Set(g.members)]));
    this.#users = users;
  }

  /** Feeds one row. */
  readonly sink: RowSink = (file, id, event, timeMs, _bytes, peer) => {
    if (event === EV_SENT && peer.startsWith("#")) {
      if (!this.#sent.has(id)) {
        this.#sent.set(id, { t: timeMs, group: peer.slice(1), sender: this.#users[file] });
      }
    } else if (event === EV_RECEIVED) {
      this.#recvId.push(id);
      this.#recvBy.push(file);
      this.#recvT.push(timeMs);
    }
  };

  /** The figures of the rows fed so far. */
  finish(): GroupSummary {
    let expected = 0;
    let firstSend = Infinity;
    for (const m of this.#sent.values()) {
      expected += Math.max(0, (this.#members.get(m.group)?.size ?? 0) - 1);
      if (m.t < firstSend) firstSend = m.t;
    }
    const seen = new Set<string>();
    const dupMessages = new Set<string>();
    const latencies: number[] = [];
    let duplicates = 0, unexpected = 0, lastDelivery = -Infinity;
    for (let k = 0; k < this.#recvId.length; k++) {
      const id = this.#recvId[k];
      const receiver = this.#users[this.#recvBy[k]];
      const m = this.#sent.get(id);
      if (!m || receiver === m.sender || !this.#members.get(m.group)?.has(receiver)) {
        unexpected++;
        continue;
      }
      const pair = `${id}\u0000${receiver}`;
      if (seen.has(pair)) {
        duplicates++;
        dupMessages.add(id);
        continue;
      }
      seen.add(pair);
      const t = this.#recvT[k];
      latencies.push(t - m.t);
      if (t > lastDelivery) lastDelivery = t;
    }
    const sorted = Float64Array.from(latencies).sort();
    const windowMs = seen.size > 0 ? lastDelivery - firstSend : NaN;
    let groupSize = 0;
    for (const s of this.#members.values()) groupSize = Math.max(groupSize, s.size);
    return {
      groups: this.#members.size,
      groupSize,
      messages: this.#sent.size,
      expectedDeliveries: expected,
      deliveries: seen.size,
      lostDeliveries: expected - seen.size,
      duplicateDeliveries: duplicates,
      duplicatedMessages: dupMessages.size,
      unexpectedDeliveries: unexpected,
      windowMs,
      messagesPerSec: perSecond(this.#sent.size, windowMs),
      deliveriesPerSec: perSecond(seen.size, windowMs),
      deliveryLatencyMs: summarizeSorted(sorted),
    };
  }
}
