/**
 * Where a run's clients are connected and how often they dropped, kept
 * from the workers' `ready`, `disconnected` and `reconnected` messages:
 * user → server id, server id → address, disconnects by phase and close
 * code, reconnects. With `--kill-one` the drops and reconnects also go to
 * the run's {@link ReconnectTracker}.
 *
 * @example
 * ```ts
 * import { ConnectionLedger } from "./connection_ledger.ts";
 * const ledger = new ConnectionLedger();
 * ledger.record({ t: "ready", worker: 0, loggedIn: 1, kept: 0, rateLimited: 0,
 *   servers: { "perf-x-0": ["srv-1", "127.0.0.1:7001"] } });
 * ledger.clientsPerServer(); // { "srv-1": 1 }
 * ```
 * @module
 */
import type { WorkerMessage } from "./worker_protocol.ts";
import type { ReconnectTracker } from "./reconnect_mode.ts";

/**
 * The clients' connections as the workers report them.
 *
 * @example
 * ```ts
 * import { ConnectionLedger } from "./connection_ledger.ts";
 * const ledger = new ConnectionLedger();
 * ledger.messaging = true;
 * ledger.record({ t: "disconnected", worker: 0, user: "perf-x-0", timeMs: 1, code: "1006" });
 * ledger.disconnectCodes; // { "messaging:1006": 1 }
 * ```
 */
export class ConnectionLedger {
  /** user -> server id (from `ready`, updated by `reconnected`). */
  readonly serverOf: Map<string, string> = new Map();
  /** server id -> address (from `ready`). */
  readonly serverAddress: Map<string, string> = new Map();
  disconnects = 0;
  /** `<phase>:<code>` -> count of client `disconnected` events. */
  readonly disconnectCodes: Record<string, number> = {};
  reconnects = 0;
  /** Set at "go": from then on disconnects count as `messaging:<code>`, before as `login:<code>`. */
  messaging = false;
  /** `--kill-one`: follows the killed server's clients once it is killed. */
  tracker: ReconnectTracker | null = null;

  /** Takes in one worker message (other types than the three above are ignored). */
  record(m: WorkerMessage): void {
    switch (m.t) {
      case "disconnected": {
        this.disconnects++;
        const key = `${this.messaging ? "messaging" : "login"}:${m.code}`;
        this.disconnectCodes[key] = (this.disconnectCodes[key] ?? 0) + 1;
        this.tracker?.disconnected(m.user, m.timeMs);
        return;
      }
      case "reconnected":
        this.reconnects++;
        this.serverOf.set(m.user, m.server);
        this.tracker?.reconnected(m.user, m.timeMs, m.server);
        return;
      case "ready":
        for (const [user, [id, address]] of Object.entries(m.servers)) {
          this.serverOf.set(user, id);
          this.serverAddress.set(id, address);
        }
        return;
      default:
        return;
    }
  }

  /** Clients per server id, as last reported. */
  clientsPerServer(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.serverOf.values()) out[s] = (out[s] ?? 0) + 1;
    return out;
  }
}
