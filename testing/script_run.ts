/**
 * A Deno script run as a real process to its exit, as `deno task` runs it:
 * all permissions, no input, only the environment the test gives it, its
 * output collected. For tests of what a command prints and how it exits.
 *
 * @example
 * ```ts
 * import { runScript } from "@fastchat/testing";
 * const r = await runScript("fastchat/main.ts", ["--help"]); // the test's environment
 * console.log(r.code, r.stdout.split("\n")[0]);
 * ```
 * @module
 */

/** How a script run ended: its exit code and its whole output, decoded. */
export interface ScriptResult {
  /** The exit code. */
  code: number;
  /** Everything it wrote to stdout. */
  stdout: string;
  /** Everything it wrote to stderr. */
  stderr: string;
}

/**
 * Runs `deno run -A <script> <args>` with `env`, if given, replacing the
 * inherited environment (nothing else leaks in), stdin closed, in `cwd` if
 * given, and resolves when it exits.
 *
 * @example
 * ```ts
 * import { runScript } from "@fastchat/testing";
 * const r = await runScript("scripts/compile.ts", ["--target", "bogus"], { env: {} });
 * console.log(r.code, r.stderr); // 2 and the usage
 * ```
 */
export async function runScript(
  script: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<ScriptResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    cwd: opts.cwd,
    clearEnv: opts.env !== undefined,
    env: opts.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
