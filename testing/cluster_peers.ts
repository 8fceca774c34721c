/**
 * Clients of a test cluster: log in through the load balancer (retrying
 * rate limits like a real client), exchange messages with receipts, see where
 * they landed, close without hanging. Used by the server's cluster tests.
 *
 * @example
 * ```ts
 * import { closeAll, exchange, joinAll } from "@fastchat/testing/cluster_peers";
 * declare const lb: { host: string; port: number };
 * const [a, b] = await joinAll(lb, "/tmp/home", ["ann", "ben"], "register");
 * await exchange(a, b, "hello");
 * await closeAll([a, b]);
 * ```
 * @module
 */
import { expect } from "expect";
import { ChatClient, type ClientEvent, viaLoadBalancer } from "@fastchat/client";
import type { FastChatError } from "@fastchat/lib/errors";
import { EventLog } from "./event_log.ts";

/**
 * KDF iterations of every test client (low: tests, not security).
 *
 * @example
 * ```ts
 * import { KDF } from "@fastchat/testing/cluster_peers";
 * console.log(KDF);
 * ```
 */
export const KDF = 100_000;

/**
 * Deadline for events that follow a crash (liveness is 3.5 s, reconnect backoff up to 5 s).
 *
 * @example
 * ```ts
 * import { FAILOVER_MS } from "@fastchat/testing/cluster_peers";
 * console.log(FAILOVER_MS / 1000, "s");
 * ```
 */
export const FAILOVER_MS = 30_000;

/**
 * The client event named `K`.
 *
 * @example
 * ```ts
 * import type { Ev } from "@fastchat/testing/cluster_peers";
 * declare const m: Ev<"message">;
 * console.log(m.text);
 * ```
 */
export type Ev<K extends ClientEvent["event"]> = Extract<ClientEvent, { event: K }>;

/**
 * A load balancer's address.
 *
 * @example
 * ```ts
 * import type { Lb } from "@fastchat/testing/cluster_peers";
 * const lb: Lb = { host: "127.0.0.1", port: 4000 };
 * console.log(lb);
 * ```
 */
export type Lb = { host: string; port: number };

/**
 * The password of test user `user`.
 *
 * @example
 * ```ts
 * import { password } from "@fastchat/testing/cluster_peers";
 * console.log(password("ann")); // "ann-password-1"
 * ```
 */
export const password = (user: string): string => `${user}-password-1`;

/**
 * `p`, or a rejection naming `what` after `ms`: nothing in a cluster test may hang.
 *
 * @example
 * ```ts
 * import { within } from "@fastchat/testing/cluster_peers";
 * console.log(await within(Promise.resolve(1), 1000, "one")); // 1
 * ```
 */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A logged-in client with its event log and the server its `ready` named.
 *
 * @example
 * ```ts
 * import type { Peer } from "@fastchat/testing/cluster_peers";
 * declare const p: Peer;
 * console.log(p.user, p.server, p.log.events.length);
 * ```
 */
export interface Peer {
  /** The username. */
  user: string;
  /** The client, logged in. */
  client: ChatClient;
  /** Everything the client reported. */
  log: EventLog<ClientEvent>;
  /** `ready.server`: where it logged in. */
  server: string;
  /** `ready.address`. */
  address: string;
}

/**
 * Registers or logs in `user` through the load balancer `lb`, with files under `home`.
 *
 * @example
 * ```ts
 * import { join } from "@fastchat/testing/cluster_peers";
 * declare const lb: { host: string; port: number };
 * const ann = await join(lb, "/tmp/home", "ann", "register");
 * console.log(ann.server);
 * ```
 */
export async function join(
  lb: Lb,
  home: string,
  user: string,
  how: "register" | "login",
): Promise<Peer> {
  const log = new EventLog<ClientEvent>();
  const client = new ChatClient({
    server: viaLoadBalancer(lb),
    homeRoot: home,
    kdfIterations: KDF,
    onEvent: log.push,
  });
  for (let attempt = 1;; attempt++) {
    try {
      await within(
        how === "register"
          ? client.register(user, password(user))
          : client.login(user, password(user)),
        FAILOVER_MS,
        `${how} ${user} (including the backlog until synced)`,
      );
      break;
    } catch (e) {
      // Like a real client: back off as long as the server says (see LOGIN_GAP_MS).
      const err = e as FastChatError;
      if (err.code !== "RATE_LIMITED" || attempt === 10) throw e;
      await new Promise((r) => setTimeout(r, Number(err.details?.retryMs ?? 200)));
    }
  }
  const ready = await log.waitFor((e) => e.event === "ready") as Ev<"ready">;
  expect(ready.user).toBe(user);
  return { user, client, log, server: ready.server, address: ready.address };
}

/**
 * `join` for each user, at most `limit` at a time, each start at least
 * `minGapMs` after the previous one; results in input order.
 *
 * @example
 * ```ts
 * import { joinAll, LOGIN_GAP_MS } from "@fastchat/testing/cluster_peers";
 * declare const lb: { host: string; port: number };
 * const peers = await joinAll(lb, "/tmp/home", ["a", "b"], "login", { minGapMs: LOGIN_GAP_MS });
 * console.log(peers.length); // 2
 * ```
 */
export async function joinAll(
  lb: Lb,
  home: string,
  users: string[],
  how: "register" | "login",
  opts: { limit?: number; minGapMs?: number } = {},
): Promise<Peer[]> {
  const out: Peer[] = new Array(users.length);
  let next = 0;
  let failed = false;
  let lastStart = -Infinity;
  const worker = async () => {
    while (next < users.length && !failed) {
      const i = next++;
      const gap = lastStart + (opts.minGapMs ?? 0) - Date.now();
      lastStart = Date.now() + Math.max(0, gap);
      if (gap > 0) await new Promise((r) => setTimeout(r, gap)); // rate pacing, not a wait
      try {
        out[i] = await join(lb, home, users[i], how);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const results = await Promise.allSettled(
    Array.from({ length: Math.min(opts.limit ?? 1, users.length) }, worker),
  );
  const failure = results.find((r) => r.status === "rejected");
  if (failure) {
    await closeAll(out.filter((p) => p));
    throw failure.reason;
  }
  return out;
}

/**
 * Chat servers allow 5 unauthenticated requests per second per address
 * (burst 20) and every test client comes from 127.0.0.1; a login is two
 * (`prelogin`, `login`). Starting one login per 150 ms keeps three servers
 * under their budget when logins are spread evenly; `join` retries
 * `RATE_LIMITED` (after the server's `retry`) for uneven spreads (random).
 *
 * @example
 * ```ts
 * import { LOGIN_GAP_MS } from "@fastchat/testing/cluster_peers";
 * console.log(1000 / LOGIN_GAP_MS, "logins per second");
 * ```
 */
export const LOGIN_GAP_MS = 150;

/**
 * Closes every client of `peers` (errors ignored), within 15 s.
 *
 * @example
 * ```ts
 * import { closeAll, type Peer } from "@fastchat/testing/cluster_peers";
 * declare const peers: Peer[];
 * await closeAll(peers);
 * ```
 */
export async function closeAll(peers: Peer[]): Promise<void> {
  await within(
    Promise.all(peers.map((p) => p.client.close().catch(() => {}))),
    15_000,
    `closing ${peers.map((p) => p.user).join(", ")}`,
  );
}

/**
 * Clients per server id, with every id of `ids` present (0 if none).
 *
 * @example
 * ```ts
 * import { type Peer, spread } from "@fastchat/testing/cluster_peers";
 * declare const peers: Peer[];
 * console.log(spread(peers, ["s1", "s2"])); // { s1: 1, s2: 0 } …
 * ```
 */
export function spread(peers: Peer[], ids: string[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(ids.map((id) => [id, 0]));
  for (const p of peers) out[p.server] = (out[p.server] ?? 0) + 1;
  return out;
}

/**
 * `n` user names `prefix00`, `prefix01`, …
 *
 * @example
 * ```ts
 * import { users } from "@fastchat/testing/cluster_peers";
 * console.log(users("u", 2)); // ["u00", "u01"]
 * ```
 */
export const users = (prefix: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(2, "0")}`);

/**
 * Waits for the message `text` from `from`.
 *
 * @example
 * ```ts
 * import { type Peer, received } from "@fastchat/testing/cluster_peers";
 * declare const bob: Peer;
 * const m = await received(bob, "alice", "hi");
 * console.log(m.id);
 * ```
 */
export async function received(p: Peer, from: string, text: string): Promise<Ev<"message">> {
  return await p.log.waitFor((e) =>
    e.event === "message" && e.from === from && e.text === text
  ) as Ev<"message">;
}

/**
 * Sends one message each way and waits for both messages, `sent` and `delivered`.
 *
 * @example
 * ```ts
 * import { exchange, type Peer } from "@fastchat/testing/cluster_peers";
 * declare const a: Peer, b: Peer;
 * await exchange(a, b, "warm-up");
 * ```
 */
export async function exchange(a: Peer, b: Peer, tag: string): Promise<void> {
  const ab = await a.client.send(b.user, `${tag}: ${a.user} to ${b.user}`);
  const ba = await b.client.send(a.user, `${tag}: ${b.user} to ${a.user}`);
  expect(await received(b, a.user, `${tag}: ${a.user} to ${b.user}`)).toMatchObject({
    id: ab,
    to: b.user,
  });
  expect(await received(a, b.user, `${tag}: ${b.user} to ${a.user}`)).toMatchObject({
    id: ba,
    to: a.user,
  });
  await a.log.waitFor((e) => e.event === "sent" && e.id === ab);
  await b.log.waitFor((e) => e.event === "sent" && e.id === ba);
  await a.log.waitFor((e) => e.event === "delivered" && e.id === ab && e.to === b.user);
  await b.log.waitFor((e) => e.event === "delivered" && e.id === ba && e.to === a.user);
}

/**
 * How many `event` events `log` holds.
 *
 * @example
 * ```ts
 * import { count, type Peer } from "@fastchat/testing/cluster_peers";
 * declare const p: Peer;
 * console.log(count(p.log, "reconnected"));
 * ```
 */
export const count = (log: EventLog<ClientEvent>, event: ClientEvent["event"]): number =>
  log.events.filter((e) => e.event === event).length;

/**
 * Waits for `p`'s next `reconnected` event (the one after `before` of them).
 *
 * @example
 * ```ts
 * import { count, nextReconnect, type Peer } from "@fastchat/testing/cluster_peers";
 * declare const p: Peer;
 * const r = await nextReconnect(p, count(p.log, "reconnected"));
 * console.log(r.server);
 * ```
 */
export async function nextReconnect(p: Peer, before: number): Promise<Ev<"reconnected">> {
  const all = await p.log.waitForCount((e) => e.event === "reconnected", before + 1, FAILOVER_MS);
  return all[before] as Ev<"reconnected">;
}
