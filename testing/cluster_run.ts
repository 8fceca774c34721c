/**
 * Runs a body against a real test cluster (database, load balancer, chat
 * server processes linked directly or through NATS) and always cleans up;
 * failures carry the processes' recent logs.
 *
 * @example
 * ```ts
 * import { withCluster } from "@fastchat/testing/cluster_run";
 * Deno.test("two servers", async (t) => {
 *   await withCluster(t, "pglite", { servers: 2 }, async (cluster, home, step) => {
 *     await step("both run", () => console.log(cluster.running().length, home));
 *   });
 * });
 * ```
 * @module
 */
import { expect } from "expect";
import { type Algorithm, ClusterLauncher as Cluster } from "@fastchat/server/cluster_launcher";
import { waitUntil } from "@fastchat/lib/wait_until";
import { readClusterId } from "@fastchat/lib/cluster/cluster_id";
import { NATS_TEST_URL, natsTestsIgnored } from "./nats.ts";
import { type DbKind, openTestDb } from "./test_db.ts";

/**
 * How the chat servers are linked: directly (TCP) or through NATS.
 *
 * @example
 * ```ts
 * import type { FabricKind } from "@fastchat/testing/cluster_run";
 * const f: FabricKind = "nats";
 * console.log(f);
 * ```
 */
export type FabricKind = "direct" | "nats";

/**
 * Whether the NATS server at 127.0.0.1:4222 answers (NATS tests are ignored if not).
 *
 * @example
 * ```ts
 * import { NATS_UP } from "@fastchat/testing/cluster_run";
 * console.log(NATS_UP);
 * ```
 */
export const NATS_UP: boolean = !await natsTestsIgnored();

/**
 * The fabrics a test runs over with database `kind`: NATS on PGlite only (cost).
 *
 * @example
 * ```ts
 * import { fabricsFor } from "@fastchat/testing/cluster_run";
 * console.log(fabricsFor("pglite")); // ["direct", "nats"]
 * ```
 */
export const fabricsFor = (kind: DbKind): FabricKind[] =>
  kind === "pglite" ? ["direct", "nats"] : ["direct"];

/**
 * The test name's suffix: nothing for direct links (the names they always had).
 *
 * @example
 * ```ts
 * import { over } from "@fastchat/testing/cluster_run";
 * console.log(over("pglite", "direct")); // "(pglite)"
 * ```
 */
export const over = (kind: DbKind, fabric: FabricKind): string =>
  fabric === "direct"
    ? `(${kind})`
    : `(${kind}, over NATS${NATS_UP ? "" : ": needs NATS at 127.0.0.1:4222"})`;

/**
 * A `t.step` whose failures carry the cluster's recent process logs.
 *
 * @example
 * ```ts
 * import type { Step } from "@fastchat/testing/cluster_run";
 * declare const step: Step;
 * await step("a step", () => {});
 * ```
 */
export type Step = (name: string, fn: () => void | Promise<void>) => Promise<boolean>;

/**
 * Starts a database and a cluster, runs `fn`, and always cleans up.
 *
 * @example
 * ```ts
 * import { withCluster } from "@fastchat/testing/cluster_run";
 * Deno.test("cluster", async (t) => {
 *   await withCluster(t, "pglite", { servers: 3, fabric: "nats" }, async (cluster) => {
 *     console.log(cluster.lb.port);
 *   });
 * });
 * ```
 */
export async function withCluster(
  t: Deno.TestContext,
  kind: DbKind,
  opts: {
    servers?: number;
    algorithm?: Algorithm;
    fabric?: FabricKind;
    /** More arguments of every server, after `--scrypt-n 1024`. */
    serverArgs?: string[];
  },
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
      serverArgs: ["--scrypt-n", "1024", ...opts.serverArgs ?? []],
      echo: Deno.env.get("FASTCHAT_CLUSTER_ECHO") === "1",
      servers: opts.servers,
      algorithm: opts.algorithm,
      // No NATS namespace: the servers take their database's cluster id (a fresh
      // database per test, so tests sharing the NATS stay apart).
      fabric: opts.fabric === "nats" ? { kind: "nats", servers: [NATS_TEST_URL] } : undefined,
    });
    // Every server says which fabric it runs (its `listening` log event), over NATS in
    // which namespace: all the same, the cluster id.
    const natsNamespace = opts.fabric === "nats" ? await readClusterId(cluster.sql) : undefined;
    for (const s of cluster.servers) {
      const listening = await waitUntil(
        () => s.proc.stderr.find((l) => l.includes('"event":"listening"')),
        10_000,
        `${s.id}'s listening event`,
      );
      const e = JSON.parse(listening);
      expect(e.fabric).toBe(opts.fabric ?? "direct");
      expect(e.natsNamespace).toBe(natsNamespace);
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
