/**
 * The command line that runs a `fastchat` subcommand (`db`, `server`, `lb`,
 * …) as a child process of this program, the same way in every launcher
 * (`fastchat start`, the test clusters, perf).
 *
 * - Under `deno run` (and `deno test`): `deno run -A [deno flags]
 *   fastchat/main.ts <sub> [args]`, with the `deno` that runs this process.
 * - Inside a binary built by `deno compile` (`Deno.build.standalone`): the
 *   binary itself, `fastchat <sub> [args]`. Its Deno flags were baked in at
 *   compile time and the source files are not on disk.
 * - With `$FASTCHAT_BINARY` set: that executable, as if compiled. This runs
 *   children from a built `fastchat` binary and lets the tests exercise the
 *   compiled form without compiling.
 *
 * @example
 * ```ts
 * import { selfCommand } from "@fastchat/lib/self_command";
 * const { command, args } = selfCommand("db", ["--memory", "--port", "0"]);
 * const child = new Deno.Command(command, { args }).spawn();
 * await child.status;
 * ```
 * @module
 */
import { fileURLToPath } from "node:url";
import { FastChatError } from "./errors.ts";
import { SERVER_V8_FLAGS } from "./runtime_flags.ts";

/**
 * The subcommands of the `fastchat` command that run as child processes
 * (`perf-worker` is perf's load-generating worker, not for people).
 *
 * @example
 * ```ts
 * import type { FastchatSubcommand } from "@fastchat/lib/self_command";
 * const sub: FastchatSubcommand = "lb";
 * ```
 */
export type FastchatSubcommand =
  | "start"
  | "server"
  | "lb"
  | "db"
  | "client"
  | "perf"
  | "perf-worker"
  | "analyze";

/**
 * The environment variable naming a `fastchat` executable to run children with.
 *
 * @example
 * ```ts
 * import { FASTCHAT_BINARY_ENV } from "@fastchat/lib/self_command";
 * console.log(Deno.env.get(FASTCHAT_BINARY_ENV) ?? "deno run fastchat/main.ts");
 * ```
 */
export const FASTCHAT_BINARY_ENV = "FASTCHAT_BINARY";

/**
 * How this program starts its children: from source with `deno run`, or as
 * a `fastchat` executable.
 *
 * @example
 * ```ts
 * import type { SelfInvocation } from "@fastchat/lib/self_command";
 * const compiled: SelfInvocation = { kind: "binary", binary: "/usr/local/bin/fastchat" };
 * ```
 */
export type SelfInvocation =
  | { kind: "source"; deno: string; entry: string }
  | { kind: "binary"; binary: string };

/**
 * Deno flags a compiled `fastchat` binary is built with (see
 * `scripts/compile.ts`): a child that asks only for these needs no flags.
 *
 * @example
 * ```ts
 * import { BINARY_DENO_FLAGS } from "@fastchat/lib/self_command";
 * console.log(BINARY_DENO_FLAGS.join(" "));
 * ```
 */
export const BINARY_DENO_FLAGS: readonly string[] = [SERVER_V8_FLAGS];

/** `fastchat/main.ts` of this checkout (a file URL under `deno run`). */
function sourceEntry(): string {
  const url = new URL("../fastchat/main.ts", import.meta.url);
  if (url.protocol !== "file:") {
    throw new FastChatError(
      "INVALID_CONFIG",
      `cannot start FastChat processes from ${url.href}: run from a checkout, ` +
        `or set ${FASTCHAT_BINARY_ENV} to a fastchat binary`,
    );
  }
  return fileURLToPath(url);
}

/**
 * How this process starts its children: `$FASTCHAT_BINARY` if set, else the
 * running binary when compiled, else `deno run` of `fastchat/main.ts`.
 *
 * @example
 * ```ts
 * import { currentInvocation } from "@fastchat/lib/self_command";
 * console.log(currentInvocation().kind); // "source" under deno run
 * ```
 */
export function currentInvocation(
  env: { get(name: string): string | undefined } = Deno.env,
  standalone: boolean = Deno.build.standalone,
): SelfInvocation {
  const binary = env.get(FASTCHAT_BINARY_ENV);
  if (binary) return { kind: "binary", binary };
  if (standalone) return { kind: "binary", binary: Deno.execPath() };
  return { kind: "source", deno: Deno.execPath(), entry: sourceEntry() };
}

/**
 * A command and its arguments, for `new Deno.Command(command, { args })`.
 *
 * @example
 * ```ts
 * import type { CommandLine } from "@fastchat/lib/self_command";
 * const c: CommandLine = { command: "/usr/local/bin/fastchat", args: ["lb", "--port", "0"] };
 * ```
 */
export interface CommandLine {
  command: string;
  args: string[];
}

/**
 * The command line of `fastchat <sub> [args]` as a child of this process.
 * `denoFlags` (e.g. V8 flags, `--cpu-prof`) go to `deno run`; a binary
 * takes none, so any besides {@link BINARY_DENO_FLAGS} (which it has) are
 * refused there with `INVALID_CONFIG`.
 *
 * @example
 * ```ts
 * import { selfCommand } from "@fastchat/lib/self_command";
 * selfCommand("server", ["--port", "0"], {
 *   invocation: { kind: "binary", binary: "/opt/fastchat" },
 * }); // { command: "/opt/fastchat", args: ["server", "--port", "0"] }
 * selfCommand("server", ["--port", "0"], {
 *   denoFlags: ["--v8-flags=--max-semi-space-size=1"],
 *   invocation: { kind: "source", deno: "/bin/deno", entry: "/src/fastchat/main.ts" },
 * }).args; // ["run", "-A", "--v8-flags=…", "/src/fastchat/main.ts", "server", "--port", "0"]
 * ```
 */
export function selfCommand(
  sub: FastchatSubcommand,
  args: readonly string[] = [],
  opts: { denoFlags?: readonly string[]; invocation?: SelfInvocation } = {},
): CommandLine {
  const self = opts.invocation ?? currentInvocation();
  const denoFlags = opts.denoFlags ?? [];
  if (self.kind === "source") {
    return { command: self.deno, args: ["run", "-A", ...denoFlags, self.entry, sub, ...args] };
  }
  const unsupported = denoFlags.filter((f) => !BINARY_DENO_FLAGS.includes(f));
  if (unsupported.length > 0) {
    throw new FastChatError(
      "INVALID_CONFIG",
      `fastchat ${sub}: ${unsupported.join(" ")} needs \`deno run\`; ` +
        `the fastchat binary ${self.binary} takes no Deno flags`,
    );
  }
  return { command: self.binary, args: [sub, ...args] };
}
