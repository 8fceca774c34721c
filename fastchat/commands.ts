/**
 * The subcommands of the `fastchat` program and how a command line picks
 * one. Each subcommand loads its component's `main.ts` only when it runs
 * (a dynamic import with a literal specifier, which `deno compile` still
 * embeds), so `fastchat db` does not load the client or the perf charts.
 *
 * @example
 * ```ts
 * import { parseCommandLine } from "@fastchat/cli/commands";
 * parseCommandLine(["lb", "--port", "0"]); // { kind: "run", name: "lb", args: ["--port", "0"], … }
 * parseCommandLine(["--version"]); // { kind: "version" }
 * ```
 * @module
 */
import type { FastchatSubcommand } from "@fastchat/lib/self_command";
import { FASTCHAT_VERSION } from "@fastchat/lib/version";

/**
 * One subcommand: what `fastchat help` says about it and how it runs.
 *
 * @example
 * ```ts
 * import type { Subcommand } from "@fastchat/cli/commands";
 * const hello: Subcommand = { summary: "says hello", run: async () => console.log("hello") };
 * ```
 */
export interface Subcommand {
  /** One line for `fastchat help`. */
  summary: string;
  /** Internal (started by another subcommand): not listed in the help. */
  hidden?: boolean;
  /** Exit code of a thrown error (default 1). */
  errorExitCode?: number;
  /**
   * Runs the component's `main` with the arguments after the subcommand;
   * resolves with an exit code, or with nothing when it keeps serving.
   */
  run(args: string[]): Promise<number | void>;
}

/**
 * Every subcommand, in help order.
 *
 * @example
 * ```ts
 * import { SUBCOMMANDS } from "@fastchat/cli/commands";
 * console.log(Object.keys(SUBCOMMANDS).join(", "));
 * ```
 */
export const SUBCOMMANDS: Readonly<Record<FastchatSubcommand, Subcommand>> = {
  start: {
    summary: "the whole system on this machine: database, chat servers, load balancer",
    run: async (args) => (await import("@fastchat/server/start")).main(args),
  },
  server: {
    summary: "one chat server",
    run: async (args) => (await import("@fastchat/server/main")).main(args),
  },
  lb: {
    summary: "the load balancer (`fastchat lb status`: the registered servers)",
    run: async (args) => (await import("@fastchat/lb/main")).main(args),
  },
  db: {
    summary: "the embedded PostgreSQL-compatible database",
    run: async (args) => (await import("@fastchat/db/main")).main(args),
  },
  client: {
    summary: "the terminal chat client",
    errorExitCode: 2,
    run: async (args) => (await import("@fastchat/client/main")).main(args),
  },
  perf: {
    summary: "the load generator: a cluster, many clients, a run directory of results",
    run: async (args) => (await import("@fastchat/perf/main")).main(args),
  },
  analyze: {
    summary: "tables, charts and an HTML report of perf run directories",
    run: async (args) => (await import("@fastchat/perf/analyze")).main(args),
  },
  "perf-worker": {
    summary: "one load-generating worker process of perf",
    hidden: true,
    run: async (args) => (await import("@fastchat/perf/load_worker")).main(args),
  },
};

/**
 * What a `fastchat` command line asks for.
 *
 * @example
 * ```ts
 * import type { CommandLineRequest } from "@fastchat/cli/commands";
 * const r: CommandLineRequest = { kind: "unknown", name: "serve" };
 * ```
 */
export type CommandLineRequest =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "unknown"; name: string }
  | { kind: "run"; name: FastchatSubcommand; command: Subcommand; args: string[] };

function isSubcommand(name: string): name is FastchatSubcommand {
  return Object.hasOwn(SUBCOMMANDS, name);
}

/**
 * Reads `fastchat <subcommand> [args]`: no arguments, `help`, `-h` or
 * `--help` ask for the help; `--version` or `-V` for the version;
 * `help <subcommand>` runs the subcommand with `--help`.
 *
 * @example
 * ```ts
 * import { parseCommandLine } from "@fastchat/cli/commands";
 * const r = parseCommandLine(["help", "start"]);
 * if (r.kind === "run") console.log(r.name, r.args); // start ["--help"]
 * ```
 */
export function parseCommandLine(argv: readonly string[]): CommandLineRequest {
  const [first, ...rest] = argv;
  if (first === undefined || first === "-h" || first === "--help") return { kind: "help" };
  if (first === "--version" || first === "-V") return { kind: "version" };
  if (first === "help") {
    if (rest.length === 0) return { kind: "help" };
    return isSubcommand(rest[0])
      ? { kind: "run", name: rest[0], command: SUBCOMMANDS[rest[0]], args: ["--help"] }
      : { kind: "unknown", name: rest[0] };
  }
  if (!isSubcommand(first)) return { kind: "unknown", name: first };
  return { kind: "run", name: first, command: SUBCOMMANDS[first], args: rest };
}

/**
 * The text of `fastchat help`.
 *
 * @example
 * ```ts
 * import { usage } from "@fastchat/cli/commands";
 * console.log(usage());
 * ```
 */
export function usage(): string {
  const listed = Object.entries(SUBCOMMANDS).filter(([, c]) => !c.hidden);
  const width = Math.max(...listed.map(([name]) => name.length));
  return [
    `FastChat ${FASTCHAT_VERSION}: end-to-end encrypted chat`,
    "",
    "Usage: fastchat <command> [options]",
    "       fastchat help <command>    (or: fastchat <command> --help)",
    "       fastchat --version",
    "",
    "Commands:",
    ...listed.map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    "",
    "From a checkout, `deno task <command>` runs the same: e.g. `deno task start -- --servers 3`.",
  ].join("\n");
}

/**
 * The text of `fastchat --version`.
 *
 * @example
 * ```ts
 * import { versionText } from "@fastchat/cli/commands";
 * versionText(); // "fastchat 0.1.0 (deno 2.9.6, x86_64-unknown-linux-gnu)"
 * ```
 */
export function versionText(): string {
  const how = Deno.build.standalone ? "compiled, " : "";
  return `fastchat ${FASTCHAT_VERSION} (${how}deno ${Deno.version.deno}, ${Deno.build.target})`;
}
