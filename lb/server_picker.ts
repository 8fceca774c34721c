/**
 * Chooses the chat server for each new client, over a cached snapshot of
 * the live, non-draining servers. The snapshot is refreshed at most every
 * `refreshMs` (250 ms): a snapshot older than that is served while a
 * refresh runs in the background, one older than `maxStaleMs` (or an empty
 * one) is refreshed before picking. Concurrent refreshes are coalesced.
 *
 * Algorithms:
 * - `round-robin`: servers ordered by id, each pick takes the next id after
 *   the previous pick (wrapping), so membership changes keep the rotation.
 * - `random`: uniform over the servers, from the crypto RNG.
 * - `least-connections`: the fewest `clients` plus tickets this picker
 *   issued for the server since its last heartbeat (those clients are not
 *   counted yet), so a burst spreads out; ties rotate like round-robin.
 *
 * @example
 * ```ts
 * import { ServerPicker } from "@fastchat/lb/server_picker";
 * const picker = new ServerPicker({
 *   algorithm: "round-robin",
 *   fetch: () => Promise.resolve([
 *     { id: "a", host: "127.0.0.1", port: 7701, clients: 0, draining: false },
 *     { id: "b", host: "127.0.0.1", port: 7702, clients: 0, draining: false },
 *   ]),
 * });
 * console.log((await picker.pick()).id, (await picker.pick()).id); // a b
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import { IssueLog } from "./issue_log.ts";

/** The selection algorithms. */
export const PICK_ALGORITHMS = ["round-robin", "random", "least-connections"] as const;
/** One of {@link PICK_ALGORITHMS}. */
export type PickAlgorithm = typeof PICK_ALGORITHMS[number];
/** Default minimum time between two registry reads. */
export const DEFAULT_REFRESH_MS = 250;
/** Default age beyond which a snapshot is not used while the store fails. */
export const DEFAULT_MAX_STALE_MS = 2_000;

/**
 * Parses an algorithm name; throws `INVALID_CONFIG` naming the valid ones.
 *
 * @example
 * ```ts
 * import { parsePickAlgorithm } from "@fastchat/lb/server_picker";
 * parsePickAlgorithm("random"); // "random"
 * ```
 */
export function parsePickAlgorithm(name: string): PickAlgorithm {
  if ((PICK_ALGORITHMS as readonly string[]).includes(name)) return name as PickAlgorithm;
  throw new FastChatError(
    "INVALID_CONFIG",
    `unknown algorithm ${JSON.stringify(name)}; use one of ${PICK_ALGORITHMS.join(", ")}`,
  );
}

/**
 * A server as the picker needs it (a registry row fits).
 *
 * @example
 * ```ts
 * import type { CandidateServer } from "@fastchat/lb/server_picker";
 * const s: CandidateServer = { id: "a", host: "h", port: 7701, clients: 2, draining: false };
 * ```
 */
export interface CandidateServer {
  id: string;
  host: string;
  port: number;
  /** Whether its client port speaks TLS (absent: plain TCP). */
  tls?: boolean;
  /** Clients at its last heartbeat. */
  clients: number;
  /** Draining servers are never picked. */
  draining: boolean;
  /** Age of that heartbeat; absent means "as of the fetch". */
  ageMs?: number;
}

/**
 * Options of {@link ServerPicker}.
 *
 * @example
 * ```ts
 * import type { ServerPickerOptions } from "@fastchat/lb/server_picker";
 * const opts: ServerPickerOptions = { fetch: () => Promise.resolve([]), refreshMs: 100 };
 * ```
 */
export interface ServerPickerOptions {
  /** Reads the live servers (e.g. `() => liveServers(sql)`). */
  fetch: () => Promise<readonly CandidateServer[]>;
  /** Default `round-robin`. */
  algorithm?: PickAlgorithm;
  /** Minimum time between reads (default {@link DEFAULT_REFRESH_MS}). */
  refreshMs?: number;
  /** Oldest snapshot used while reads fail (default {@link DEFAULT_MAX_STALE_MS}). */
  maxStaleMs?: number;
  /** Called when a background refresh fails (the old snapshot is kept). */
  onRefreshError?: (err: FastChatError) => void;
  /** Monotonic clock in ms (default `performance.now`). */
  clock?: () => number;
}

interface Entry {
  server: CandidateServer;
  /** Local time of its last heartbeat. */
  heartbeatAt: number;
}

/**
 * Picks servers from a cached registry snapshot.
 *
 * @example
 * ```ts
 * import { ServerPicker } from "@fastchat/lb/server_picker";
 * import { liveServers } from "@fastchat/lib/cluster/server_directory";
 * declare const sql: import("postgres").Sql;
 * const picker = new ServerPicker({ algorithm: "least-connections", fetch: () => liveServers(sql) });
 * const { id, host, port } = await picker.pick(); // throws NO_SERVERS if none
 * ```
 */
export class ServerPicker {
  /** The algorithm in use. */
  readonly algorithm: PickAlgorithm;
  readonly #opts: ServerPickerOptions;
  readonly #clock: () => number;
  #entries: Entry[] = [];
  #live = 0;
  #fetchedAt = -Infinity;
  #inflight: Promise<void> | null = null;
  #lastId: string | null = null;
  #issued = new IssueLog();

  constructor(opts: ServerPickerOptions) {
    this.#opts = opts;
    this.algorithm = opts.algorithm ?? "round-robin";
    parsePickAlgorithm(this.algorithm);
    this.#clock = opts.clock ?? (() => performance.now());
  }

  /** The current snapshot of pickable servers, ordered by id. */
  get servers(): readonly CandidateServer[] {
    return this.#entries.map((e) => e.server);
  }

  /**
   * Picks a server, other than those in `avoid` while another is live (a
   * client that just lost a server names it: the registry takes a few
   * seconds to notice a dead one). Throws `NO_SERVERS` when none is live
   * and accepting clients, `STORE_UNAVAILABLE` when the registry cannot be read.
   */
  async pick(avoid?: readonly string[]): Promise<CandidateServer> {
    const age = this.#clock() - this.#fetchedAt;
    if (this.#entries.length === 0 || age >= (this.#opts.maxStaleMs ?? DEFAULT_MAX_STALE_MS)) {
      await this.refresh();
    } else if (age >= (this.#opts.refreshMs ?? DEFAULT_REFRESH_MS) && !this.#inflight) {
      this.refresh().catch((e) => this.#opts.onRefreshError?.(FastChatError.from(e)));
    }
    let entries = this.#entries;
    if (avoid?.length && entries.length > 1) {
      const rest = entries.filter((e) => !avoid.includes(e.server.id));
      if (rest.length > 0) entries = rest;
    }
    if (entries.length === 0) {
      throw new FastChatError(
        "NO_SERVERS",
        this.#live > 0
          ? `all ${this.#live} live chat servers are draining; try again shortly`
          : "no chat server is running; start one with `deno task server`",
        { live: this.#live },
      );
    }
    const now = this.#clock();
    const chosen = this.algorithm === "random"
      ? entries[randomIndex(entries.length)]
      : this.algorithm === "least-connections"
      ? this.#leastLoaded(entries)
      : entries[this.#after(entries)];
    this.#lastId = chosen.server.id;
    this.#issued.record(chosen.server.id, now);
    return chosen.server;
  }

  /** Reads the registry now (coalesced with a read in progress). */
  refresh(): Promise<void> {
    this.#inflight ??= this.#read().finally(() => this.#inflight = null);
    return this.#inflight;
  }

  async #read(): Promise<void> {
    const started = this.#clock();
    const rows = await this.#opts.fetch().catch((e) => {
      throw FastChatError.from(e, "STORE_UNAVAILABLE");
    });
    const seen = new Set<string>();
    const entries: Entry[] = [];
    for (const s of rows) {
      if (!seen.has(s.id) && !s.draining) {
        entries.push({ server: s, heartbeatAt: started - (s.ageMs ?? 0) });
      }
      seen.add(s.id);
    }
    entries.sort((a, b) => a.server.id > b.server.id ? 1 : -1); // ids are unique
    this.#entries = entries;
    this.#live = seen.size;
    this.#fetchedAt = started;
    this.#issued.prune(started, seen);
  }

  /** Index of the first entry whose id follows the last pick (wrapping). */
  #after(entries: Entry[]): number {
    const last = this.#lastId;
    const i = last === null ? -1 : entries.findIndex((e) => e.server.id > last);
    return i === -1 ? 0 : i;
  }

  #leastLoaded(entries: Entry[]): Entry {
    const start = this.#after(entries);
    let best = entries[start];
    let bestLoad = Infinity;
    for (let k = 0; k < entries.length; k++) {
      const e = entries[(start + k) % entries.length];
      // Tickets issued since its heartbeat: clients its count does not include yet.
      const load = e.server.clients + this.#issued.countSince(e.server.id, e.heartbeatAt);
      if (load < bestLoad) {
        best = e;
        bestLoad = load;
      }
    }
    return best;
  }
}

const rand = new Uint32Array(1);

/** Uniform integer in [0, n) from the crypto RNG (rejection sampling, no modulo bias). */
function randomIndex(n: number): number {
  const limit = 2 ** 32 - (2 ** 32 % n);
  while (true) {
    crypto.getRandomValues(rand);
    if (rand[0] < limit) return rand[0] % n;
  }
}
