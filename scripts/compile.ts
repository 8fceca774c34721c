/**
 * `deno task compile -- [--out DIR] [--only server,client,db] [--target TRIPLE]`
 *
 * Builds single-file executables with `deno compile`:
 *
 * | binary                 | entry            | embedded files   |
 * | ---------------------- | ---------------- | ---------------- |
 * | `dist/fastchat-server` | `server/main.ts` | `db/migrations/` |
 * | `dist/fastchat-client` | `client/main.ts` |                  |
 * | `dist/fastchat-db`     | `db/main.ts`     | `db/migrations/` |
 * | `dist/fastchat-lb`     | `lb/main.ts`     | (only if that file exists) |
 *
 * `db/migrate.ts` loads `db/migrations/*.sql` at run time with
 * `fetch(new URL("./migrations/…", import.meta.url))` (falling back to
 * `Deno.readTextFile` inside a binary). Such files are not part of the module
 * graph, so every binary that applies migrations (the server, and the
 * embedded database, which migrates in-process) is built with
 * `--include db/migrations`.
 *
 * There is no `fastchat-start`: `server/start.ts` runs the database and the
 * server as child processes with `Deno.execPath() run -A <file>.ts`. Inside a
 * compiled binary `Deno.execPath()` is that binary and the `.ts` files are not
 * on disk, so a compiled start would not work. Run `fastchat-db` and
 * `fastchat-server --db <url>` side by side instead.
 *
 * `deno compile` needs the Deno runtime binary (`denort`) of the same Deno
 * version for the target platform. It downloads it from dl.deno.land unless
 * the `DENORT_BIN` environment variable names a local copy; this script
 * passes `DENORT_BIN` through and explains a failed download in one message
 * (exit code 1). A `--target` other than this machine may also need that
 * platform's npm packages from the npm registry.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { SERVER_V8_FLAGS } from "@fastchat/lib/runtime_flags";

/** The repository root (the parent of `scripts/`). */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

/** One program that can be compiled. */
export interface CompileTarget {
  /** Short name: the binary is `fastchat-<name>`. */
  name: string;
  /** Entry module, relative to the repository root. */
  entry: string;
  /** Files or directories (relative to the root) to embed with `--include`. */
  include: string[];
  /** Extra `deno compile` flags baked into the binary (e.g. V8 flags). */
  flags?: string[];
}

/** Everything `deno task compile` can build, in build order. */
export const TARGETS: readonly CompileTarget[] = [
  {
    name: "server",
    entry: "server/main.ts",
    include: ["db/migrations"],
    flags: [SERVER_V8_FLAGS],
  },
  { name: "client", entry: "client/main.ts", include: [] },
  { name: "db", entry: "db/main.ts", include: ["db/migrations"] },
  { name: "lb", entry: "lb/main.ts", include: [] },
];

/** Inputs of {@link planCompile}. */
export interface PlanOptions {
  /** Output directory (absolute, or relative to the repository root). */
  outDir: string;
  /** Names to build; all available ones when absent or empty. */
  only?: string[];
  /** `deno compile --target` triple, e.g. `x86_64-unknown-linux-gnu`. */
  target?: string;
  /** Whether an entry module exists (default: checks the file under {@link ROOT}). */
  exists?: (entry: string) => boolean;
}

/** One `deno compile` invocation. */
export interface CompileStep {
  name: string;
  entry: string;
  /** The binary's path. */
  output: string;
  /** Arguments to the `deno` executable, run with the repository root as working directory. */
  args: string[];
}

/** A usage error: bad flags or names. */
export class UsageError extends Error {}

/**
 * Builds the `deno compile` argument lists (pure apart from the default
 * `exists` check). Throws {@link UsageError} on an unknown or unavailable name.
 *
 * @example
 * ```ts
 * import { planCompile } from "./compile.ts";
 * planCompile({ outDir: "dist", only: ["client"], exists: () => true })[0].args;
 * // ["compile", "-A", "--output", "dist/fastchat-client", "client/main.ts"]
 * ```
 */
export function planCompile(opts: PlanOptions): CompileStep[] {
  const exists = opts.exists ?? ((entry: string) => existsSync(join(ROOT, entry)));
  const known = new Map(TARGETS.map((t) => [t.name, t]));
  const wanted = opts.only && opts.only.length > 0 ? opts.only : undefined;
  if (wanted) {
    for (const name of wanted) {
      if (name === "start") {
        throw new UsageError(
          "fastchat-start cannot be compiled: server/start.ts starts the other programs as " +
            "`deno run` of their source files; run fastchat-db and fastchat-server instead",
        );
      }
      const t = known.get(name);
      if (!t) {
        throw new UsageError(
          `unknown program ${JSON.stringify(name)}; choose from ${
            TARGETS.map((x) => x.name).join(", ")
          }`,
        );
      }
      if (!exists(t.entry)) throw new UsageError(`${name}: ${t.entry} does not exist`);
    }
  }
  const windows = opts.target?.includes("windows") ?? false;
  return TARGETS
    .filter((t) => wanted ? wanted.includes(t.name) : exists(t.entry))
    .map((t) => {
      const output = join(opts.outDir, `fastchat-${t.name}${windows ? ".exe" : ""}`);
      return {
        name: t.name,
        entry: t.entry,
        output,
        args: [
          "compile",
          "-A",
          ...(t.flags ?? []),
          "--output",
          output,
          ...t.include.flatMap((inc) => ["--include", inc]),
          ...(opts.target ? ["--target", opts.target] : []),
          t.entry,
        ],
      };
    });
}

/** Why a `deno compile` run failed, judged from its error output. */
export type FailureKind = "runtime" | "npm" | "other";

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/** Removes ANSI colour codes. */
export function stripAnsi(s: string): string {
  return s.replace(ANSI, "");
}

/**
 * Classifies `deno compile` error output: the runtime (`denort`) could not be
 * downloaded or found, an npm package could not be downloaded, or anything
 * else (type errors, bad paths, …).
 */
export function classifyFailure(stderr: string): FailureKind {
  const s = stripAnsi(stderr);
  if (/denort|dl\.deno\.land|base binary|DENORT_BIN/i.test(s)) return "runtime";
  if (/Failed caching npm package|registry\.npmjs\.org|npm package/i.test(s)) return "npm";
  return "other";
}

/** The useful lines of a Deno error report: no colours, no "Stack backtrace" section. */
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

/** The most specific cause in a Deno error report (e.g. the failed download), if any. */
export function mainCause(stderr: string): string | undefined {
  const lines = errorLines(stderr).map((l) => l.trim().replace(/^\d+:\s*/, ""));
  return lines.find((l) => /dl\.deno\.land|denort/i.test(l) && !/^error: Writing/.test(l)) ??
    lines.find((l) => /registry\.npmjs\.org|npm package/i.test(l)) ??
    lines.find((l) => l.startsWith("error:"));
}

/** The Deno runtime archive `deno compile` downloads for `target`. */
export function denortUrl(target: string, version: string = Deno.version.deno): string {
  return `https://dl.deno.land/release/v${version}/denort-${target}.zip`;
}

/** The one message printed when the runtime cannot be had. */
export function runtimeFailureMessage(
  opts: { binary: string; cause?: string; denortBin?: string; target: string },
): string {
  const lines = [
    `fastchat compile: building ${opts.binary} failed: the Deno runtime (denort) for ` +
    `${opts.target}, which deno compile puts into every binary, is not available.`,
  ];
  if (opts.cause) lines.push(`  cause: ${opts.cause}`);
  lines.push(
    opts.denortBin
      ? `DENORT_BIN is set to ${opts.denortBin}, but no usable denort binary is there.`
      : "`deno compile` downloads a runtime (denort) from the internet " +
        `(${denortUrl(opts.target)}) unless DENORT_BIN names a local copy.`,
    "To fix it, either set DENORT_BIN=/path/to/denort (the denort of Deno " +
      `${Deno.version.deno} for ${opts.target}, unzipped from ${denortUrl(opts.target)}), ` +
      "or run the build where dl.deno.land is reachable.",
  );
  return lines.join("\n");
}

/** The message printed when npm packages for the target cannot be downloaded. */
export function npmFailureMessage(
  opts: { binary: string; cause?: string; target: string },
): string {
  return [
    `fastchat compile: building ${opts.binary} failed: an npm package for ${opts.target} ` +
    "could not be downloaded.",
    ...(opts.cause ? [`  cause: ${opts.cause}`] : []),
    "Compiling for another platform (--target) fetches that platform's npm packages from the " +
    "npm registry; run the build where the registry is reachable, or build on the target platform.",
  ].join("\n");
}

const HELP = `Usage: deno task compile -- [options]
  --out DIR          output directory (default dist)
  --only a,b         build only these: ${TARGETS.map((t) => t.name).join(", ")}
  --target TRIPLE    cross-compile, e.g. x86_64-unknown-linux-gnu, aarch64-apple-darwin
Environment:
  DENORT_BIN         a local denort binary, so deno compile does not download one`;

async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        out: { type: "string", default: "dist" },
        only: { type: "string" },
        target: { type: "string" },
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
  const only = values.only?.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const steps = planCompile({ outDir, only, target: values.target });
  if (steps.length === 0) throw new UsageError("nothing to build");
  const target = values.target ?? Deno.build.target;
  const denortBin = Deno.env.get("DENORT_BIN") || undefined;
  if (denortBin) {
    let ok = false;
    try {
      ok = (await Deno.stat(denortBin)).isFile;
    } catch { /* missing */ }
    if (!ok) {
      console.error(runtimeFailureMessage({
        binary: steps[0].output,
        cause: `${denortBin} does not exist or is not a file`,
        denortBin,
        target,
      }));
      return 1;
    }
  }
  await Deno.mkdir(outDir, { recursive: true });
  for (const step of steps) {
    console.log(`compiling ${step.entry} -> ${step.output}`);
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
    switch (classifyFailure(stderr)) {
      case "runtime":
        console.error(runtimeFailureMessage({ binary: step.output, cause, denortBin, target }));
        break;
      case "npm":
        console.error(npmFailureMessage({ binary: step.output, cause, target }));
        break;
      default:
        console.error(
          `fastchat compile: building ${step.output} failed (deno compile exited with ` +
            `code ${res.code}):\n${errorLines(stderr).join("\n")}`,
        );
    }
    return 1;
  }
  console.log(`done: ${steps.length} binaries in ${outDir}`);
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
