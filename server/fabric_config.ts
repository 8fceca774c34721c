/**
 * The fabric flags of `deno task server` and `deno task start`:
 * `--fabric direct|nats`, `--nats URL[,URL...]` (or `$NATS_URL`) and
 * `--nats-namespace NS`, checked once into a {@link FabricConfig}; bad
 * values are `INVALID_CONFIG`. Without `--nats-namespace` each server uses
 * its database's cluster id (`@fastchat/lib/cluster/cluster_id`): servers
 * sharing a database share subjects, other clusters on the same NATS do not. {@link fabricServerArgs} turns a config back
 * into the server flags the cluster launcher passes on (the URLs, which may
 * hold credentials, travel in `$NATS_URL`, never on a command line).
 *
 * @example
 * ```ts
 * import { parseFabricFlags } from "@fastchat/server/fabric_config";
 * const cfg = parseFabricFlags({ fabric: "nats", nats: ["nats://127.0.0.1:4222"] }, undefined);
 * console.log(cfg); // { kind: "nats", servers: ["nats://127.0.0.1:4222"] }: namespace from the database
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";

/**
 * Which fabric a cluster's servers use to reach each other.
 *
 * @example
 * ```ts
 * import type { FabricConfig } from "@fastchat/server/fabric_config";
 * const direct: FabricConfig = { kind: "direct" };
 * const nats: FabricConfig = { kind: "nats", servers: ["nats://10.0.0.5:4222"], namespace: "prod" };
 * const ownDb: FabricConfig = { kind: "nats", servers: ["nats://10.0.0.5:4222"] }; // cluster id
 * ```
 */
export type FabricConfig =
  | { kind: "direct" }
  /** `namespace` absent: each server takes its database's cluster id. */
  | { kind: "nats"; servers: string[]; namespace?: string };

/**
 * What a NATS subject token of ours may be: server ids and namespaces
 * become subject tokens, so no dots, wildcards or spaces.
 *
 * @example
 * ```ts
 * import { SUBJECT_TOKEN } from "@fastchat/server/fabric_config";
 * SUBJECT_TOKEN.test("srv-1"); // true
 * SUBJECT_TOKEN.test("a.b"); // false
 * ```
 */
export const SUBJECT_TOKEN: RegExp = /^[A-Za-z0-9_-]{1,64}$/;

const invalid = (msg: string) => new FastChatError("INVALID_CONFIG", msg);

/**
 * Checks NATS server URLs (`nats://host:port`, `tls://host:port` or
 * `host:port`; several in one string separated by commas) and returns them
 * one per entry.
 *
 * @example
 * ```ts
 * import { parseNatsUrls } from "@fastchat/server/fabric_config";
 * parseNatsUrls(["nats://a:4222,nats://b:4222"]); // ["nats://a:4222", "nats://b:4222"]
 * ```
 */
export function parseNatsUrls(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of values.flatMap((v) => v.split(","))) {
    const v = raw.trim();
    if (v === "") throw invalid("--nats: empty URL");
    let url: URL;
    try {
      url = new URL(v.includes("://") ? v : `nats://${v}`);
    } catch {
      throw invalid(`--nats: not a URL: ${JSON.stringify(v.slice(0, 200))}`);
    }
    if (url.protocol !== "nats:" && url.protocol !== "tls:") {
      throw invalid(`--nats: ${url.protocol}// is not a NATS URL (nats:// or tls://)`);
    }
    if (url.hostname === "") throw invalid(`--nats: no host in ${JSON.stringify(v)}`);
    if (url.pathname !== "" && url.pathname !== "/" || url.search !== "" || url.hash !== "") {
      throw invalid(`--nats: a NATS URL is scheme://host:port, not ${JSON.stringify(v)}`);
    }
    out.push(v);
  }
  if (out.length === 0) throw invalid("--nats needs at least one URL");
  return out;
}

/**
 * The fabric from the flags: `fabric` (default `nats` when `nats` URLs are
 * given, else `direct`), the URLs from `nats` or else `envNatsUrl`
 * (`$NATS_URL`), and the namespace that keeps clusters sharing one NATS
 * apart (absent unless given: the servers then use their database's
 * cluster id).
 *
 * @example
 * ```ts
 * import { parseFabricFlags } from "@fastchat/server/fabric_config";
 * parseFabricFlags({}, undefined); // { kind: "direct" }
 * parseFabricFlags({ fabric: "nats" }, "nats://127.0.0.1:4222").kind; // "nats"
 * ```
 */
export function parseFabricFlags(
  flags: { fabric?: string; nats?: readonly string[]; namespace?: string },
  envNatsUrl: string | undefined,
): FabricConfig {
  const given = flags.nats !== undefined && flags.nats.length > 0;
  const kind = flags.fabric ?? (given ? "nats" : "direct");
  if (kind !== "direct" && kind !== "nats") {
    throw invalid(`--fabric must be direct or nats, not ${JSON.stringify(kind.slice(0, 64))}`);
  }
  if (kind === "direct") {
    if (given) throw invalid("--nats only applies with --fabric nats");
    if (flags.namespace !== undefined) {
      throw invalid("--nats-namespace only applies with --fabric nats");
    }
    return { kind };
  }
  const urls = given ? flags.nats! : envNatsUrl ? [envNatsUrl] : [];
  if (urls.length === 0) throw invalid("--fabric nats needs --nats URL (or $NATS_URL)");
  const servers = parseNatsUrls(urls);
  if (flags.namespace === undefined) return { kind, servers };
  if (!SUBJECT_TOKEN.test(flags.namespace)) {
    throw invalid("--nats-namespace: 1 to 64 of A-Z a-z 0-9 _ -");
  }
  return { kind, servers, namespace: flags.namespace };
}

/**
 * The `server/main.ts` flags that select `cfg` (without the URLs, which go
 * in `$NATS_URL`: see {@link natsUrlEnv}; `--nats-namespace` only when
 * `cfg` names one).
 *
 * @example
 * ```ts
 * import { fabricServerArgs } from "@fastchat/server/fabric_config";
 * fabricServerArgs({ kind: "nats", servers: ["nats://n:4222"], namespace: "t1" });
 * // ["--fabric", "nats", "--nats-namespace", "t1"]
 * ```
 */
export function fabricServerArgs(cfg: FabricConfig): string[] {
  if (cfg.kind === "direct") return [];
  return [
    "--fabric",
    "nats",
    ...cfg.namespace === undefined ? [] : ["--nats-namespace", cfg.namespace],
  ];
}

/**
 * The environment that gives a server process `cfg`'s NATS URLs.
 *
 * @example
 * ```ts
 * import { natsUrlEnv } from "@fastchat/server/fabric_config";
 * natsUrlEnv({ kind: "nats", servers: ["nats://a:4222", "nats://b:4222"], namespace: "x" });
 * // { NATS_URL: "nats://a:4222,nats://b:4222" }
 * ```
 */
export function natsUrlEnv(cfg: FabricConfig): Record<string, string> {
  return cfg.kind === "direct" ? {} : { NATS_URL: cfg.servers.join(",") };
}

/**
 * A NATS URL fit for logs and messages: a user and password in it are masked.
 *
 * @example
 * ```ts
 * import { redactNatsUrl } from "@fastchat/server/fabric_config";
 * redactNatsUrl("nats://app:s3cret@nats:4222"); // "nats://***@nats:4222"
 * ```
 */
export function redactNatsUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/)?[^@/]*@/i, (_, scheme) => `${scheme ?? ""}***@`);
}
