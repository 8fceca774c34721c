/**
 * Cluster integration: a real load balancer and real chat servers (separate
 * processes with `--require-ticket`, linked server to server) over PGlite
 * and, with `FASTCHAT_TEST_DATABASE_URL`, real PostgreSQL; real clients
 * going through the load balancer. Covers the balancing algorithms,
 * cross-server messages (live and offline), a server joining at runtime on
 * another loopback address, kill -9 failover and graceful shutdown. Cross-server
 * messages, groups and kill -9 also run with the servers linked through NATS
 * (`--fabric nats`, the NATS server at 127.0.0.1:4222 that every development
 * and CI machine runs; ignored, under a name that says so, only if it does
 * not answer), on PGlite.
 *
 * `FASTCHAT_CLUSTER_ECHO=1` echoes the processes' logs.
 */
import { expect } from "expect";
import { ChatClient, type ClientEvent, viaLoadBalancer } from "@fastchat/client";
import { requestTicket } from "@fastchat/client/lb_client";
import type { FastChatError } from "@fastchat/lib/errors";
import {
  type Algorithm,
  ClusterLauncher as Cluster,
  type ClusterMember as ClusterServer,
} from "./cluster_launcher.ts";
import { waitUntil } from "@fastchat/lib/wait_until";
import { waitForClients, waitForLive } from "./registry_waits.ts";
import {
  DB_KINDS,
  type DbKind,
  EventLog,
  NATS_TEST_URL,
  natsTestsIgnored,
  openTestDb,
  testNamespace,
} from "@fastchat/testing";

const KDF = 100_000;
/** Deadline for events that follow a crash (liveness is 3.5 s, reconnect backoff up to 5 s). */
const FAILOVER_MS = 30_000;

type Ev<K extends ClientEvent["event"]> = Extract<ClientEvent, { event: K }>;
type Lb = { host: string; port: number };

const password = (user: string) => `${user}-password-1`;

type FabricKind = "direct" | "nats";
const NATS_UP = !await natsTestsIgnored();
/** The fabrics a test runs over with database `kind`: NATS on PGlite only (cost). */
const fabricsFor = (kind: DbKind): FabricKind[] =>
  kind === "pglite" ? ["direct", "nats"] : ["direct"];
/** The test name's suffix: nothing for direct links (the names they always had). */
const over = (kind: DbKind, fabric: FabricKind) =>
  fabric === "direct"
    ? `(${kind})`
    : `(${kind}, over NATS${NATS_UP ? "" : ": needs NATS at 127.0.0.1:4222"})`;

/** `p`, or a rejection naming `what` after `ms`: nothing in this file may hang. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
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

/** A logged-in client with its event log and the server its `ready` named. */
interface Peer {
  user: string;
  client: ChatClient;
  log: EventLog<ClientEvent>;
  /** `ready.server`: where it logged in. */
  server: string;
  /** `ready.address`. */
  address: string;
}

/** Registers or logs in `user` through the load balancer `lb`. */
async function join(lb: Lb, home: string, user: string, how: "register" | "login"): Promise<Peer> {
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
 */
async function joinAll(
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
 */
const LOGIN_GAP_MS = 150;

async function closeAll(peers: Peer[]): Promise<void> {
  await within(
    Promise.all(peers.map((p) => p.client.close().catch(() => {}))),
    15_000,
    `closing ${peers.map((p) => p.user).join(", ")}`,
  );
}

/** Clients per server id, with every id of `ids` present (0 if none). */
function spread(peers: Peer[], ids: string[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(ids.map((id) => [id, 0]));
  for (const p of peers) out[p.server] = (out[p.server] ?? 0) + 1;
  return out;
}

const users = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(2, "0")}`);

/** Waits for the message `text` from `from`. */
async function received(p: Peer, from: string, text: string): Promise<Ev<"message">> {
  return await p.log.waitFor((e) =>
    e.event === "message" && e.from === from && e.text === text
  ) as Ev<"message">;
}

/** Sends one message each way and waits for both messages, `sent` and `delivered`. */
async function exchange(a: Peer, b: Peer, tag: string): Promise<void> {
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

const count = (log: EventLog<ClientEvent>, event: ClientEvent["event"]) =>
  log.events.filter((e) => e.event === event).length;

/** Waits for `p`'s next `reconnected` event (the one after `before` of them). */
async function nextReconnect(p: Peer, before: number): Promise<Ev<"reconnected">> {
  const all = await p.log.waitForCount((e) => e.event === "reconnected", before + 1, FAILOVER_MS);
  return all[before] as Ev<"reconnected">;
}

/** A `t.step` whose failures carry the cluster's recent process logs. */
type Step = (name: string, fn: () => void | Promise<void>) => Promise<boolean>;

/** Starts a database and a cluster, runs `fn`, and always cleans up. */
async function withCluster(
  t: Deno.TestContext,
  kind: DbKind,
  opts: { servers?: number; algorithm?: Algorithm; fabric?: FabricKind },
  fn: (cluster: Cluster, home: string, step: Step) => Promise<void>,
): Promise<void> {
  const db = await openTestDb(kind);
  const home = await Deno.makeTempDir({ prefix: "fastchat-cluster-home-" });
  let cluster: Cluster | undefined;
  const withLogs = (e: unknown) => {
    if (cluster && e instanceof Error) e.message += `\n\nrecent process logs:\n${cluster.logs(15)}`;
    return e;
  };
  try {
    cluster = await Cluster.start({
      dbUrl: db.url,
      serverArgs: ["--scrypt-n", "1024"],
      echo: Deno.env.get("FASTCHAT_CLUSTER_ECHO") === "1",
      servers: opts.servers,
      algorithm: opts.algorithm,
      fabric: opts.fabric === "nats"
        ? { kind: "nats", servers: [NATS_TEST_URL], namespace: testNamespace() }
        : undefined,
    });
    // Every server says which fabric it runs (its `listening` log event).
    for (const s of cluster.servers) {
      const listening = await waitUntil(
        () => s.proc.stderr.find((l) => l.includes('"event":"listening"')),
        10_000,
        `${s.id}'s listening event`,
      );
      expect(JSON.parse(listening).fabric).toBe(opts.fabric ?? "direct");
    }
    const step: Step = (name, body) =>
      t.step(name, async () => {
        try {
          await body();
        } catch (e) {
          throw withLogs(e);
        }
      });
    await fn(cluster, home, step);
  } catch (e) {
    throw withLogs(e);
  } finally {
    await cluster?.stop();
    await db.close();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

/** What {@link streamThroughCrash} sent. */
interface Stream {
  sender: Peer;
  recipient: Peer;
  /** Ids in send order. */
  ids: string[];
  /** How many had been sent when the server was killed. */
  killedAfter: number;
}

/**
 * Streams messages `sender` → `recipient` while `victim` is killed with
 * SIGKILL. Returns once every affected client reconnected elsewhere and 20
 * more messages were confirmed after that; then checks that every message
 * was confirmed (`sent`) and received exactly once.
 */
async function streamThroughCrash(
  cluster: Cluster,
  sender: Peer,
  recipient: Peer,
  victim: ClusterServer,
  tag: string,
): Promise<Stream> {
  const affected = [sender, recipient].filter((p) => p.client.whoami().server === victim.id);
  expect(affected.length).toBeGreaterThan(0);
  const before = affected.map((p) => count(p.log, "reconnected"));
  const ids: string[] = [];
  const idSet = new Set<string>();
  const isOurSent = (e: ClientEvent) => e.event === "sent" && idSet.has(e.id);
  let streaming = true;
  let killedAfter = -1;
  const stream = (async () => {
    for (let i = 0; streaming; i++) {
      // During the outage send() queues in the outbox and returns at once.
      const id = await sender.client.send(recipient.user, `${tag} ${i}`);
      ids.push(id);
      idSet.add(id);
      await new Promise((r) => setTimeout(r, 5)); // paces the stream; waits for nothing
    }
  })();
  try {
    await sender.log.waitForCount(isOurSent, 20);
    killedAfter = ids.length;
    const status = await cluster.kill(victim);
    expect(status.signal).toBe("SIGKILL");
    const liveIds = cluster.running().map((s) => s.id);
    for (const [i, p] of affected.entries()) {
      const r = await nextReconnect(p, before[i]);
      expect(r.user).toBe(p.user);
      expect(r.server).not.toBe(victim.id);
      expect(liveIds).toContain(r.server);
      expect(p.client.whoami().server).toBe(r.server);
    }
    // Keep streaming a while on the new servers.
    const confirmed = sender.log.events.filter(isOurSent).length;
    await sender.log.waitForCount(isOurSent, confirmed + 20, FAILOVER_MS);
  } finally {
    streaming = false;
    await within(stream, FAILOVER_MS, "the sending loop to stop");
  }
  // Everything sent is eventually confirmed: the outbox was resent after reconnect.
  try {
    await sender.log.waitForCount(isOurSent, ids.length, FAILOVER_MS);
  } catch (err) {
    const sent = new Set(sender.log.events.filter(isOurSent).map((e) => (e as Ev<"sent">).id));
    const missing = ids.filter((id) => !sent.has(id));
    const stored = await cluster.sql`select id from messages where id = any(${missing})`;
    const errors = sender.log.events.filter((e) => e.event === "error");
    const gotByRecipient = recipient.log.events.filter((e) =>
      e.event === "message" && missing.includes(e.id)
    ).length;
    throw new Error(
      `${missing.length} of ${ids.length} messages never confirmed (no sent): ` +
        `#${missing.map((id) => ids.indexOf(id)).join(", #")}, the server was killed after ` +
        `#${killedAfter - 1}; still in ${sender.user}'s outbox: ${sender.client.unconfirmed}; ` +
        `in the store: ${stored.length}; received by ${recipient.user}: ${gotByRecipient}; ` +
        `${sender.user}'s errors: ${JSON.stringify(errors)}\n${(err as Error).message}`,
    );
  }
  expect(sender.client.unconfirmed).toBe(0);
  // ... and every message reaches the recipient exactly once.
  const isOurs = (e: ClientEvent) =>
    e.event === "message" && e.from === sender.user && idSet.has(e.id);
  await recipient.log.waitForCount(isOurs, ids.length, FAILOVER_MS);
  // A marker after the stream gives late duplicates time to show up.
  const marker = await sender.client.send(recipient.user, `${tag} end`);
  await recipient.log.waitFor((e) => e.event === "message" && e.id === marker, FAILOVER_MS);
  const received = recipient.log.events.filter(isOurs).map((e) => (e as Ev<"message">).id);
  const dups = received.filter((id, i) => received.indexOf(id) !== i);
  expect(dups).toEqual([]);
  expect(new Set(received)).toEqual(idSet);
  return { sender, recipient, ids, killedAfter };
}

/** Waits until the sender of `s` has a `delivered` receipt for every message of it. */
async function expectAllReceipts(cluster: Cluster, s: Stream): Promise<void> {
  const { sender, recipient, ids } = s;
  const idSet = new Set(ids);
  const isOurReceipt = (e: ClientEvent) =>
    e.event === "delivered" && e.to === recipient.user && idSet.has(e.id);
  try {
    await sender.log.waitForCount(isOurReceipt, ids.length, 10_000);
  } catch (err) {
    const got = new Set(
      sender.log.events.filter(isOurReceipt).map((e) => (e as Ev<"delivered">).id),
    );
    const missing = ids.filter((id) => !got.has(id));
    // Still stored as undelivered, or parked as receipts for an "offline" sender?
    const stored = await cluster.sql`select id from messages where id = any(${missing})`;
    const parked = await cluster.sql`select message_id from receipts
      where username = ${sender.user} and message_id = any(${missing})`;
    throw new Error(
      `${missing.length} of ${ids.length} messages (received by ${recipient.user}) never got ` +
        `a delivered receipt: #${missing.map((id) => ids.indexOf(id)).join(", #")}; the server ` +
        `was killed after #${s.killedAfter - 1} was sent; of them still in messages: ` +
        `${stored.length}, parked in receipts: ${parked.length}\n${(err as Error).message}`,
    );
  }
}

for (const kind of DB_KINDS) {
  Deno.test({
    name: `cluster (${kind}): round-robin, least-connections and random spread logins`,
    async fn(t) {
      await withCluster(
        t,
        kind,
        { servers: 3, algorithm: "round-robin" },
        async (cluster, home, step) => {
          const ids = cluster.running().map((s) => s.id);
          const names = users("user", 30);
          const open: Peer[] = []; // closed at the end whatever happens
          const track = (peers: Peer[]) => (open.push(...peers), peers);
          try {
            await step("round-robin: 30 registrations land 10/10/10", async () => {
              const peers = track(await joinAll(cluster.lb, home, names, "register", { limit: 6 }));
              expect(spread(peers, ids)).toEqual(Object.fromEntries(ids.map((id) => [id, 10])));
              await closeAll(peers);
            });

            await step("least-connections: even spread, refills an emptied server", async () => {
              await waitForClients(cluster.sql, Object.fromEntries(ids.map((id) => [id, 0])));
              const lb = await cluster.addLoadBalancer("least-connections");
              // One at a time: each login is counted (by ticket, then by heartbeat) before the next.
              const peers = track(
                await joinAll(lb, home, names, "login", { minGapMs: LOGIN_GAP_MS }),
              );
              const first = spread(peers, ids);
              // Exactly even but for a ticket that races a heartbeat (then counted in neither).
              for (const id of ids) expect(Math.abs(first[id] - 10)).toBeLessThanOrEqual(1);

              const emptied = ids[0];
              const gone = peers.filter((p) => p.server === emptied);
              const kept = peers.filter((p) => p.server !== emptied);
              await closeAll(gone);
              // The registry (heartbeat every second) reports the emptied server and the others.
              await waitForClients(
                cluster.sql,
                Object.fromEntries(ids.map((id) => [id, id === emptied ? 0 : first[id]])),
              );
              // Second sessions of 10 users, from another home (not sharing files with the first).
              const home2 = await Deno.makeTempDir({ dir: home });
              const more = track(
                await joinAll(lb, home2, names.slice(0, 10), "login", { minGapMs: LOGIN_GAP_MS }),
              );
              const refill = spread(more, ids);
              expect(refill[emptied]).toBeGreaterThanOrEqual(8);
              const final = spread([...kept, ...more], ids);
              const total = Object.values(final).reduce((a, b) => a + b, 0);
              expect(total).toBe(30 - gone.length + 10);
              for (const id of ids) {
                expect(Math.abs(final[id] - total / ids.length)).toBeLessThanOrEqual(2);
              }
              await closeAll([...kept, ...more]);
            });

            await step("random: 30 logins touch every server", async () => {
              const lb = await cluster.addLoadBalancer("random");
              const peers = track(
                await joinAll(lb, home, names, "login", { minGapMs: LOGIN_GAP_MS }),
              );
              const s = spread(peers, ids);
              expect(Object.keys(s).sort()).toEqual([...ids].sort());
              for (const id of ids) expect(s[id]).toBeGreaterThan(0);
              await closeAll(peers);
            });
          } finally {
            await closeAll(open);
          }
        },
      );
    },
  });

  for (const fabric of fabricsFor(kind)) {
    Deno.test({
      name: `cluster ${over(kind, fabric)}: direct messages across servers, live and offline`,
      ignore: fabric === "nats" && !NATS_UP,
      async fn(t) {
        await withCluster(t, kind, { servers: 3, fabric }, async (cluster, home, step) => {
          const alice = await join(cluster.lb, home, "alice", "register");
          let bob = await join(cluster.lb, home, "bob", "register");
          try {
            await step("alice and bob are on different servers", () => {
              expect(bob.server).not.toBe(alice.server);
              expect(cluster.running().map((s) => s.id)).toContain(alice.server);
              expect(cluster.running().map((s) => s.id)).toContain(bob.server);
            });

            await step("live both ways with sent and delivered receipts", async () => {
              await exchange(alice, bob, "live");
              // Key lookups cross servers too: both see the same safety number.
              expect(await alice.client.verify("bob")).toBe(await bob.client.verify("alice"));
            });

            await step("offline: stored, delivered in order at the next login", async () => {
              await bob.client.close();
              const sent: string[] = [];
              for (let i = 0; i < 5; i++) sent.push(await alice.client.send("bob", `offline ${i}`));
              await within(alice.client.idle(), 20_000, "alice's outbox to empty");
              for (const id of sent) {
                expect(alice.log.events).toContainEqual({ event: "sent", id });
              }
              bob = await join(cluster.lb, home, "bob", "login"); // on any server
              const got = await bob.log.waitForCount(
                (e) => e.event === "message" && e.text.startsWith("offline "),
                5,
              );
              expect(got.map((e) => (e as Ev<"message">).id)).toEqual(sent);
              expect(got.map((e) => (e as Ev<"message">).text)).toEqual(
                sent.map((_, i) => `offline ${i}`),
              );
              for (const id of sent) {
                await alice.log.waitFor((e) =>
                  e.event === "delivered" && e.id === id && e.to === "bob"
                );
              }
            });
          } finally {
            await closeAll([alice, bob]);
          }
        });
      },
    });

    Deno.test({
      name: `cluster ${over(kind, fabric)}: a group spans three servers, online and offline`,
      ignore: fabric === "nats" && !NATS_UP,
      async fn(t) {
        await withCluster(t, kind, { servers: 3, fabric }, async (cluster, home, step) => {
          let peers = await joinAll(cluster.lb, home, ["ann", "ben", "cat"], "register");
          try {
            await step("one member per server", () => {
              expect(new Set(peers.map((p) => p.server)).size).toBe(3);
            });
            const [ann, ben, cat] = peers;
            const texts = (p: Peer) =>
              p.log.events.flatMap((e) =>
                e.event === "message" && "group" in e && e.group === "crew" ? [e.text] : []
              );
            await step("created and posted: every member gets every post once", async () => {
              await ann.client.group("create", "crew", ["ben", "cat"]);
              for (const p of peers) {
                await p.log.waitFor((e) => e.event === "group" && e.change === "created");
              }
              await ann.client.send("#crew", "from ann");
              await ben.client.send("#crew", "from ben");
              for (const p of peers) {
                const want = ["from ann", "from ben"].filter((x) => x !== `from ${p.user}`);
                await p.log.waitFor(() => want.every((w) => texts(p).includes(w)), FAILOVER_MS);
                expect(texts(p).sort()).toEqual(want);
              }
            });
            await step("a member offline gets the posts at its next login", async () => {
              await cat.client.close();
              await ann.client.send("#crew", "while cat is away");
              await within(ann.client.idle(), 20_000, "ann's outbox to empty");
              const cat2 = await join(cluster.lb, home, "cat", "login");
              peers = [ann, ben, cat2];
              await cat2.log.waitFor(() => texts(cat2).includes("while cat is away"), FAILOVER_MS);
              await ben.log.waitFor(() => texts(ben).includes("while cat is away"));
              expect(texts(ben).filter((x) => x === "while cat is away")).toHaveLength(1);
            });
          } finally {
            await closeAll(peers);
          }
        });
      },
    });
  }

  Deno.test({
    name: `cluster (${kind}): a server joins at runtime on 127.0.0.2`,
    async fn(t) {
      await withCluster(t, kind, { servers: 3 }, async (cluster, home, step) => {
        const peers: Peer[] = [];
        try {
          const alice = await join(cluster.lb, home, "alice", "register");
          peers.push(alice);
          let joined!: ClusterServer;

          await step("it binds 127.0.0.2, registers and links with every peer", async () => {
            joined = await cluster.addServer({
              args: ["--host", "127.0.0.2", "--advertise-host", "127.0.0.2"],
            }); // waits for the full mesh (peer_link_up both ways)
            expect(joined.host).toBe("127.0.0.2");
            const live = await waitForLive(cluster.sql, cluster.running().map((s) => s.id));
            expect(live.find((s) => s.id === joined.id)).toMatchObject({
              host: "127.0.0.2",
              port: joined.port,
              peerHost: "127.0.0.2",
            });
          });

          let carol: Peer | undefined;
          await step("round-robin sends one of the next 4 logins to it", async () => {
            const seen: string[] = [];
            for (const user of users("joiner", 4)) {
              const p = await join(cluster.lb, home, user, "register");
              peers.push(p);
              seen.push(p.server);
              if (p.server === joined.id) {
                carol = p;
                break;
              }
            }
            expect(seen).toContain(joined.id);
            expect(carol!.address.startsWith("127.0.0.2:")).toBe(true);
            expect(carol!.client.whoami()).toMatchObject({
              server: joined.id,
              address: joined.address,
            });
          });

          await step("a user on it chats with a user on another server", async () => {
            expect(alice.server).not.toBe(joined.id);
            await exchange(carol!, alice, "joined");
          });
        } finally {
          await closeAll(peers);
        }
      });
    },
  });

  for (const fabric of fabricsFor(kind)) {
    Deno.test({
      name: `cluster ${over(kind, fabric)}: kill -9 mid-conversation loses and duplicates nothing`,
      ignore: fabric === "nats" && !NATS_UP,
      async fn(t) {
        await withCluster(t, kind, { servers: 3, fabric }, async (cluster, home, step) => {
          const peers: Peer[] = [];
          try {
            let same: Stream | undefined;
            await step("both on the killed server: all sent, each received once", async () => {
              const alice = await join(cluster.lb, home, "alice", "register");
              peers.push(alice);
              // Round-robin over 3 servers: two more tickets bring the rotation back to alice's.
              await requestTicket(cluster.lb);
              await requestTicket(cluster.lb);
              const bob = await join(cluster.lb, home, "bob", "register");
              peers.push(bob);
              expect(bob.server).toBe(alice.server);
              await exchange(alice, bob, "warm-up");
              same = await streamThroughCrash(
                cluster,
                alice,
                bob,
                cluster.server(alice.server),
                "same",
              );
              // The survivors see the dead server leave the registry.
              await waitForLive(cluster.sql, cluster.running().map((s) => s.id));
            });

            await step("both on the killed server: a delivered receipt for each", async () => {
              if (!same) throw new Error("skipped: the previous step failed");
              await expectAllReceipts(cluster, same);
            });

            let cross: Stream | undefined;
            await step("recipient's server killed: all sent, each received once", async () => {
              // Fresh users on two different servers: consecutive round-robin picks differ.
              const carol = await join(cluster.lb, home, "carol", "register");
              peers.push(carol);
              const dave = await join(cluster.lb, home, "dave", "register");
              peers.push(dave);
              expect(dave.server).not.toBe(carol.server);
              await exchange(carol, dave, "warm-up");
              cross = await streamThroughCrash(
                cluster,
                carol,
                dave,
                cluster.server(dave.server),
                "x",
              );
            });

            await step("recipient's server killed: a delivered receipt for each", async () => {
              if (!cross) throw new Error("skipped: the previous step failed");
              await expectAllReceipts(cluster, cross);
            });
          } finally {
            await closeAll(peers);
          }
        });
      },
    });
  }

  for (const fabric of fabricsFor(kind)) {
    Deno.test({
      name: `cluster ${
        over(kind, fabric)
      }: SIGTERM drains a server, its clients move, it leaves the registry`,
      ignore: fabric === "nats" && !NATS_UP,
      async fn(t) {
        await withCluster(t, kind, { servers: 3, fabric }, async (cluster, home, step) => {
          // Round-robin: a, b, c on the three servers, d back on a's server.
          const peers = await joinAll(cluster.lb, home, ["a", "b", "c", "d"], "register");
          try {
            const [a, b, , d] = peers;
            const victim = cluster.server(a.server);
            expect(d.server).toBe(victim.id);
            const moving = [a, d];
            const before = moving.map((p) => count(p.log, "reconnected"));

            await step("SIGTERM: exits cleanly and deregisters", async () => {
              const status = await cluster.terminate(victim);
              expect(status.code).toBe(0);
              const rest = cluster.running().map((s) => s.id);
              expect(rest).not.toContain(victim.id);
              const live = await waitForLive(cluster.sql, rest);
              expect(live.map((s) => s.id)).not.toContain(victim.id);
              if (fabric === "nats") {
                // The others heard its drain signal (bye) on NATS, not only its heartbeats stop.
                for (const s of cluster.running()) {
                  await waitUntil(
                    () =>
                      s.proc.stderr.some((l) =>
                        l.includes('"peer_link_down"') && l.includes(`"peer":"${victim.id}"`) &&
                        l.includes("said bye")
                      ),
                    10_000,
                    `${s.id} to log ${victim.id}'s bye`,
                  );
                }
              }
            });

            await step("its clients are told and reconnect elsewhere", async () => {
              const rest = cluster.running().map((s) => s.id);
              for (const [i, p] of moving.entries()) {
                await p.log.waitFor((e) =>
                  e.event === "error" && e.code === "SERVER_SHUTTING_DOWN"
                );
                const r = await nextReconnect(p, before[i]);
                expect(r.server).not.toBe(victim.id);
                expect(rest).toContain(r.server);
              }
              await exchange(a, b, "after drain");
              await exchange(d, a, "after drain");
            });
          } finally {
            await closeAll(peers);
          }
        });
      },
    });
  }
}
