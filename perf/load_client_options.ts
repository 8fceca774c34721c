/**
 * The options of one simulated user of a load run (`LoadClient`,
 * `load_client.ts`): who it is, where it connects, what it sends and where
 * it logs.
 *
 * @example
 * ```ts
 * import type { LoadClientOptions } from "./load_client_options.ts";
 * const send: LoadClientOptions["send"] = { kind: "window", window: 16 };
 * ```
 * @module
 */
import type { Identity } from "@fastchat/lib/crypto";
import type { LoadClient } from "./load_client.ts";
import type { RunConfig, SendModel } from "./run_schema.ts";
import type { GroupRole } from "./group_plan.ts";

/**
 * Options of a `LoadClient`.
 *
 * @example
 * ```ts
 * import type { LoadClientOptions } from "./load_client_options.ts";
 * const opts: LoadClientOptions = {
 *   index: 0, clients: 2, seed: "demo", lb: { host: "127.0.0.1", port: 7700 },
 *   homeRoot: "/tmp/perf-home", kdfIterations: 100_000, csvPath: null,
 *   send: { kind: "window", window: 16 }, payloadBytes: 100, messages: 10,
 * };
 * ```
 */
export interface LoadClientOptions {
  /** Client index in the run (0-based); the user is `perf-<seed>-<index>`. */
  index: number;
  /** Clients in the whole run: recipients are drawn among them. */
  clients: number;
  /**
   * `--peers`: the only clients this one writes to (its set from
   * `peer_graph.ts`); absent or null: any other client.
   */
  peers?: readonly number[] | null;
  seed: string;
  lb: { host: string; port: number };
  /** Home root for the client's keys (a worker's temp directory). */
  homeRoot: string;
  /** PBKDF2 iterations for registration. */
  kdfIterations: number;
  /** Identity of a new user (default: freshly generated). */
  newIdentity?: () => Promise<Identity>;
  /** The CSV path, or null to record nothing (idle mode). */
  csvPath: string | null;
  send: SendModel;
  payloadBytes: number;
  /** Messages to send, or null to send until `endAtMs` (passed to {@link LoadClient.run}). */
  messages: number | null;
  /**
   * `client` (default): a real ChatClient; `wire`: the protocol-level
   * {@link import("./wire_chat_client.ts").WireChatClient} (dm mode only).
   */
  driver?: RunConfig["driver"];
  /** Conversation kind (default `dm`). */
  mode?: RunConfig["mode"];
  /** `--mode group`: this client's group and role in it. */
  group?: GroupRole;
  /** `--mode file`: the size of each file, and where this client's files are written. */
  file?: { bytes: number; dir: string };
  /** Connection lost / back (for `--kill-one`). */
  onDisconnected?: (c: LoadClient, timeMs: number, code: string) => void;
  onReconnected?: (c: LoadClient, timeMs: number, server: string) => void;
}
