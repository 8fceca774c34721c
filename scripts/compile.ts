/**
 * `deno task compile -- [--out DIR] [--target TRIPLE]...`
 *
 * Builds the one `fastchat` program (`fastchat/main.ts`, every subcommand:
 * `fastchat start|server|lb|db|client|perf|analyze`) into a single-file
 * executable with `deno compile`: `dist/fastchat` for this machine, or
 * `dist/fastchat-<target>` (`.exe` on Windows) for each `--target`.
 *
 * - `--include db/migrations`: `db/migrate.ts` loads `db/migrations/*.sql`
 *   at run time with `fetch(new URL("./migrations/…", import.meta.url))`
 *   (falling back to `Deno.readTextFile` inside a binary). Those files are
 *   not part of the module graph, so they are embedded explicitly. The
 *   subcommands' `main.ts` files are loaded with literal dynamic imports,
 *   which `deno compile` follows.
 * - `--include perf/host_stall_worker.ts`, `perf/wake_delay_worker.ts`:
 *   `perf --host-check` and `--wake-meter` start them as `Worker`s from
 *   their URLs, which `deno compile` does not follow.
 * - The server's V8 flags (`@fastchat/lib/runtime_flags`) are baked in, so
 *   every subcommand of the binary runs with them (a binary takes no Deno
 *   flags at run time; the load balancer, database and client do not need
 *   a larger young generation either).
 * - `fastchat start` in the binary runs its database, servers and load
 *   balancer as `fastchat db|server|lb` children of the same binary
 *   (`@fastchat/lib/self_command`).
 *
 * `deno compile` needs the Deno runtime binary (`denort`) of this Deno
 * version for each target. It uses `$DENORT_BIN` if set (one target only),
 * else a copy cached in the Deno directory (`<DENO_DIR>/dl/release/v<version>/`),
 * else downloads it from dl.deno.land. Before compiling, this script checks
 * that one of those will work (a 5 s probe of the download); if not, it
 * prints one sentence saying so and how to fix it, and exits 1. A
 * `--target` other than this machine may also need that platform's npm
 * packages from the npm registry.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { BINARY_DENO_FLAGS } from "@fastchat/lib/self_command";

/**
 * The repository root (the parent of `scripts/`).
 *
 * @example
 * ```ts
 * import { ROOT } from "./compile.ts";
 * console.log(`${ROOT}fastchat/main.ts`);
 * ```
 */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

/**
 * What the `fastchat` binary is built from (paths relative to {@link ROOT}).
 *
 * @example
 * ```ts
 * import { FASTCHAT_PROGRAM } from "./compile.ts";
 * console.log(FASTCHAT_PROGRAM.entry, FASTCHAT_PROGRAM.include);
 * ```
 */
export const FASTCHAT_PROGRAM: {
  readonly entry: string;
  readonly include: readonly string[];
  readonly flags: readonly string[];
} = {
  entry: "fastchat/main.ts",
  include: ["db/migrations", "perf/host_stall_worker.ts", "perf/wake_delay_worker.ts"],
  flags: BINARY_DENO_FLAGS,
};

/**
 * The `--target` values of `deno compile` (Deno 2.9).
 *
 * @example
 * ```ts
 * import { COMPILE_TARGETS } from "./compile.ts";
 * COMPILE_TARGETS.includes(Deno.build.target); // true on the supported platforms
 * ```
 */
export const COMPILE_TARGETS: readonly string[] = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-pc-windows-msvc",
  "aarch64-pc-windows-msvc",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
];

/**
 * One `deno compile` invocation.
 *
 * @example
 * ```ts
 * import type { CompileStep } from "./compile.ts";
 * const s: CompileStep = { target: "aarch64-apple-darwin", output: "dist/x", args: ["compile"] };
 * ```
 */
export interface CompileStep {
  /** The target triple. */
  target: string;
  /** The binary's path. */
  output: string;
  /** Arguments to the `deno` executable, run with the repository root as working directory. */
  args: string[];
}

/**
 * A usage error: bad flags or targets.
 *
 * @example
 * ```ts
 * import { UsageError } from "./compile.ts";
 * const e = new UsageError("a --target is repeated");
 * ```
 */
export class UsageError extends Error {}

/**
 * The `deno compile` argument lists: one binary for this machine
 * (`<outDir>/fastchat`) when `targets` is empty, else one per target
 * (`<outDir>/fastchat-<target>[.exe]`). Throws {@link UsageError} on an
 * unknown or repeated target.
 *
 * @example
 * ```ts
 * import { planCompile } from "./compile.ts";
 * planCompile({ outDir: "dist" })[0].output; // "dist/fastchat"
 * planCompile({ outDir: "dist", targets: ["aarch64-apple-darwin"] })[0].output;
 * // "dist/fastchat-aarch64-apple-darwin"
 * ```
 */
export function planCompile(
  opts: { outDir: string; targets?: readonly string[]; host?: string },
): CompileStep[] {
  const targets = opts.targets ?? [];
  for (const t of targets) {
    if (!COMPILE_TARGETS.includes(t)) {
      throw new UsageError(
        `unknown target ${JSON.stringify(t)}; choose from ${COMPILE_TARGETS.join(", ")}`,
      );
    }
  }
  if (new Set(targets).size !== targets.length) throw new UsageError("a --target is repeated");
  const host = opts.host ?? Deno.build.target;
  const builds = targets.length === 0
    ? [{ target: host, output: join(opts.outDir, exe("fastchat", host)) }]
    : targets.map((t) => ({ target: t, output: join(opts.outDir, exe(`fastchat-${t}`, t)) }));
  return builds.map((b) => ({
    target: b.target,
    output: b.output,
    args: [
      "compile",
      "-A",
      ...FASTCHAT_PROGRAM.flags,
      "--output",
      b.output,
      ...FASTCHAT_PROGRAM.include.flatMap((inc) => ["--include", inc]),
      ...(targets.length === 0 ? [] : ["--target", b.target]),
      FASTCHAT_PROGRAM.entry,
    ],
  }));
}

function exe(name: string, target: string): string {
  return target.includes("windows") ? `${name}.exe` : name;
}

/**
 * Why a `deno compile` run failed, judged from its error output.
 *
 * @example
 * ```ts
 * import type { FailureKind } from "./compile.ts";
 * const k: FailureKind = "runtime";
 * ```
 */
export type FailureKind = "runtime" | "npm" | "other";

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/**
 * Removes ANSI colour codes.
 *
 * @example
 * ```ts
 * import { stripAnsi } from "./compile.ts";
 * stripAnsi("\x1b[31merror\x1b[0m"); // "error"
 * ```
 */
export function stripAnsi(s: string): string {
  return s.replace(ANSI, "");
}

/**
 * Classifies `deno compile` error output: the runtime (`denort`) could not be
 * downloaded or found, an npm package could not be downloaded, or anything
 * else (type errors, bad paths, …).
 *
 * @example
 * ```ts
 * import { classifyFailure } from "./compile.ts";
 * classifyFailure("error: Could not find denort at '/x'"); // "runtime"
 * ```
 */
export function classifyFailure(stderr: string): FailureKind {
  const s = stripAnsi(stderr);
  if (/denort|dl\.deno\.land|base binary|DENORT_BIN/i.test(s)) return "runtime";
  if (/Failed caching npm package|registry\.npmjs\.org|npm package/i.test(s)) return "npm";
  return "other";
}

/**
 * The useful lines of a Deno error report: no colours, no "Stack backtrace" section.
 *
 * @example
 * ```ts
 * import { errorLines } from "./compile.ts";
 * errorLines("Check x.ts\nerror: bad\nStack backtrace:\n 0: x"); // ["error: bad"]
 * ```
 */
export function errorLines(stderr: string): string[] {
  const out: string[] = [];
  for (const raw of stripAnsi(stderr).split("\n")) {
    const line = raw.trimEnd();
    if (/^Stack backtrace:/.test(line.trim())) break;
    if (/^(Check|Compile|Download|Warning)\s/.test(line.trim())) continue;
    if (line.trim() !== "") out.push(line);
  }
  return out;
}

/**
 * The most specific cause in a Deno error report (e.g. the failed download), if any.
 *
 * @example
 * ```ts
 * import { mainCause } from "./compile.ts";
 * mainCause("error: Writing x\n  0: Could not find denort at '/x'"); // "Could not find denort at '/x'"
 * ```
 */
export function mainCause(stderr: string): string | undefined {
  const lines = errorLines(stderr).map((l) => l.trim().replace(/^\d+:\s*/, ""));
  return lines.find((l) => /dl\.deno\.land|denort/i.test(l) && !/^error: Writing/.test(l)) ??
    lines.find((l) => /registry\.npmjs\.org|npm package/i.test(l)) ??
    lines.find((l) => l.startsWith("error:"));
}

/**
 * The Deno runtime archive `deno compile` downloads for `target`.
 *
 * @example
 * ```ts
 * import { denortUrl } from "./compile.ts";
 * denortUrl("aarch64-apple-darwin", "2.9.6");
 * // "https://dl.deno.land/release/v2.9.6/denort-aarch64-apple-darwin.zip"
 * ```
 */
export function denortUrl(target: string, version: string = Deno.version.deno): string {
  return `https://dl.deno.land/release/v${version}/denort-${target}.zip`;
}

/**
 * Where `deno compile` keeps a downloaded runtime archive in the Deno directory.
 *
 * @example
 * ```ts
 * import { denortCachePath } from "./compile.ts";
 * denortCachePath("/root/.cache/deno", "x86_64-unknown-linux-gnu", "2.9.6");
 * // "/root/.cache/deno/dl/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip"
 * ```
 */
export function denortCachePath(
  denoDir: string,
  target: string,
  version: string = Deno.version.deno,
): string {
  return join(denoDir, "dl", "release", `v${version}`, `denort-${target}.zip`);
}

/**
 * The one sentence printed when the runtime for `target` cannot be had:
 * what failed, why, and both fixes.
 *
 * @example
 * ```ts
 * import { runtimeFailureMessage } from "./compile.ts";
 * console.error(runtimeFailureMessage({
 *   binary: "dist/fastchat", target: "x86_64-unknown-linux-gnu", cause: "dns error",
 * }));
 * ```
 */
export function runtimeFailureMessage(
  opts: { binary: string; target: string; cause?: string; denortBin?: string },
): string {
  const runtime = `the Deno ${Deno.version.deno} runtime (denort) for ${opts.target}`;
  const why = opts.cause ? ` (${opts.cause})` : "";
  if (opts.denortBin) {
    return `fastchat compile: cannot build ${opts.binary}: DENORT_BIN=${opts.denortBin} ` +
      `is not a usable denort binary${why}; point DENORT_BIN at ${runtime}, unzipped from ` +
      `${denortUrl(opts.target)}, or unset it where dl.deno.land is reachable.`;
  }
  return `fastchat compile: cannot build ${opts.binary}: deno compile needs ${runtime}, ` +
    `which is not cached and could not be downloaded from ${denortUrl(opts.target)}${why}; ` +
    "set DENORT_BIN to a local denort binary of that version and target, " +
    "or build where dl.deno.land is reachable.";
}

/**
 * The one sentence printed when npm packages for the target cannot be downloaded.
 *
 * @example
 * ```ts
 * import { npmFailureMessage } from "./compile.ts";
 * console.error(npmFailureMessage({ binary: "dist/x", target: "aarch64-apple-darwin" }));
 * ```
 */
export function npmFailureMessage(
  opts: { binary: string; cause?: string; target: string },
): string {
  return `fastchat compile: cannot build ${opts.binary}: an npm package for ${opts.target} ` +
    `could not be downloaded${opts.cause ? ` (${opts.cause})` : ""}; build where the npm ` +
    "registry is reachable, or on the target platform.";
}

/** The Deno directory (`DENO_DIR` or Deno's default), as `deno info` reports it. */
async function denoDir(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    return (JSON.parse(new TextDecoder().decode(out.stdout)) as { denoDir?: string }).denoDir;
  } catch {
    return undefined;
  }
}

/**
 * Why `deno compile` would not get the runtime for `target`, or undefined
 * if it will: `DENORT_BIN` is a file, the archive is cached, or the
 * download answers within `timeoutMs`.
 *
 * @example
 * ```ts
 * import { runtimeProblem } from "./compile.ts";
 * const problem = await runtimeProblem(Deno.build.target, { timeoutMs: 1_000 });
 * console.log(problem ?? "deno compile will find its runtime");
 * ```
 */
export async function runtimeProblem(
  target: string,
  opts: { denortBin?: string; timeoutMs?: number; denoDir?: string } = {},
): Promise<string | undefined> {
  if (opts.denortBin) {
    try {
      if ((await Deno.stat(opts.denortBin)).isFile) return undefined;
      return "not a file";
    } catch (e) {
      return e instanceof Deno.errors.NotFound ? "no such file" : String(e);
    }
  }
  const dir = opts.denoDir ?? await denoDir();
  if (dir && existsSync(denortCachePath(dir, target))) return undefined;
  try {
    const res = await fetch(denortUrl(target), {
      method: "HEAD",
      signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
    });
    await res.body?.cancel();
    return res.ok ? undefined : `HTTP ${res.status}`;
  } catch (e) {
    const err = e as Error & { cause?: Error };
    if (err.name === "TimeoutError") return `no answer in ${(opts.timeoutMs ?? 5_000) / 1000} s`;
    // "error sending request for url (<the URL again>): client error (Connect): dns error: …"
    return (err.cause?.message ?? err.message).split("\n")[0]
      .replace(/^error sending request for url \([^)]*\):\s*/, "");
  }
}

const HELP = `Usage: deno task compile -- [options]
  --out DIR          output directory (default dist)
  --target TRIPLE    build for this platform (repeatable): ${COMPILE_TARGETS.join(", ")}
                     (default: this machine, as DIR/fastchat; with --target: DIR/fastchat-TRIPLE)
Environment:
  DENORT_BIN         a local denort binary (one target), so deno compile does not download one`;

async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: args[0] === "--" ? args.slice(1) : args,
      options: {
        out: { type: "string", default: "dist" },
        target: { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const outDir = isAbsolute(values.out) ? values.out : resolve(Deno.cwd(), values.out);
  const steps = planCompile({ outDir, targets: values.target ?? [] });
  const denortBin = Deno.env.get("DENORT_BIN") || undefined;
  if (denortBin && steps.length > 1) {
    throw new UsageError("DENORT_BIN is the runtime of one target: build one --target at a time");
  }
  for (const step of steps) {
    const problem = await runtimeProblem(step.target, { denortBin });
    if (problem !== undefined) {
      console.error(runtimeFailureMessage({
        binary: step.output,
        target: step.target,
        cause: problem,
        denortBin,
      }));
      return 1;
    }
  }
  await Deno.mkdir(outDir, { recursive: true });
  for (const step of steps) {
    console.log(`compiling ${FASTCHAT_PROGRAM.entry} for ${step.target} -> ${step.output}`);
    const res = await new Deno.Command(Deno.execPath(), {
      args: step.args,
      cwd: ROOT,
      // Inherited anyway; explicit because deno compile reads it to skip the download.
      env: denortBin ? { DENORT_BIN: denortBin } : {},
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(res.stderr);
    if (res.success) {
      const size = (await Deno.stat(step.output)).size;
      console.log(`built ${step.output} (${(size / 1024 / 1024).toFixed(1)} MiB)`);
      continue;
    }
    const cause = mainCause(stderr);
    const failure = { binary: step.output, cause, target: step.target };
    switch (classifyFailure(stderr)) {
      case "runtime":
        console.error(runtimeFailureMessage({ ...failure, denortBin }));
        break;
      case "npm":
        console.error(npmFailureMessage(failure));
        break;
      default:
        console.error(
          `fastchat compile: cannot build ${step.output}: deno compile exited with ` +
            `code ${res.code}:\n${errorLines(stderr).join("\n")}`,
        );
    }
    return 1;
  }
  console.log(`done: ${steps.map((s) => s.output).join(", ")}`);
  return 0;
}

if (import.meta.main) {
  main(Deno.args).then((code) => Deno.exit(code)).catch((e) => {
    if (e instanceof UsageError) {
      console.error(`fastchat compile: ${e.message}\n${HELP}`);
      Deno.exit(2);
    }
    console.error(`fastchat compile: ${e instanceof Error ? e.message : String(e)}`);
    Deno.exit(1);
  });
}
