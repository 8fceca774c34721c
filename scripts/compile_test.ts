/**
 * `scripts/compile.ts`: the `deno compile` command plan of the one
 * `fastchat` binary, the runtime check, the failure classification, and —
 * as a real process — the one-sentence message and exit code 1 when the
 * Deno runtime (denort) cannot be had. Actually producing a binary needs
 * that runtime, which this test does not download; the dispatch a binary
 * uses is tested without compiling in `fastchat/main_test.ts`.
 */
import { expect } from "expect";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MIGRATION_FILES } from "@fastchat/db/migrations";
import { runScript } from "@fastchat/testing";
import { SERVER_V8_FLAGS } from "@fastchat/lib/runtime_flags";
import { BINARY_DENO_FLAGS } from "@fastchat/lib/self_command";
import {
  classifyFailure,
  COMPILE_TARGETS,
  denortCachePath,
  denortUrl,
  errorLines,
  FASTCHAT_PROGRAM,
  mainCause,
  planCompile,
  ROOT,
  runtimeFailureMessage,
  runtimeProblem,
  UsageError,
} from "./compile.ts";

const SCRIPT = fileURLToPath(new URL("./compile.ts", import.meta.url));

Deno.test("planCompile: one fastchat binary for this machine, migrations embedded", () => {
  const steps = planCompile({ outDir: "/out", host: "x86_64-unknown-linux-gnu" });
  expect(steps).toEqual([
    {
      target: "x86_64-unknown-linux-gnu",
      output: "/out/fastchat",
      args: [
        "compile",
        "-A",
        SERVER_V8_FLAGS,
        "--output",
        "/out/fastchat",
        "--include",
        "db/migrations",
        "--include",
        "perf/host_stall_worker.ts",
        "--include",
        "perf/wake_delay_worker.ts",
        "fastchat/main.ts",
      ],
    },
  ]);
  expect(planCompile({ outDir: "dist" })[0].target).toBe(Deno.build.target);
  expect(planCompile({ outDir: "d", host: "x86_64-pc-windows-msvc" })[0].output).toBe(
    "d/fastchat.exe",
  );
});

Deno.test("planCompile: one binary per --target, named after it", () => {
  const steps = planCompile({
    outDir: "/o",
    targets: ["aarch64-apple-darwin", "x86_64-pc-windows-msvc"],
  });
  expect(steps.map((s) => [s.target, s.output])).toEqual([
    ["aarch64-apple-darwin", "/o/fastchat-aarch64-apple-darwin"],
    ["x86_64-pc-windows-msvc", "/o/fastchat-x86_64-pc-windows-msvc.exe"],
  ]);
  expect(steps[0].args).toEqual([
    "compile",
    "-A",
    SERVER_V8_FLAGS,
    "--output",
    "/o/fastchat-aarch64-apple-darwin",
    "--include",
    "db/migrations",
    "--include",
    "perf/host_stall_worker.ts",
    "--include",
    "perf/wake_delay_worker.ts",
    "--target",
    "aarch64-apple-darwin",
    "fastchat/main.ts",
  ]);
  // The entry module is always the last argument.
  for (const s of steps) expect(s.args.at(-1)).toBe(FASTCHAT_PROGRAM.entry);
});

Deno.test("planCompile: unknown and repeated targets are usage errors", () => {
  expect(() => planCompile({ outDir: "dist", targets: ["bogus"] })).toThrow(UsageError);
  expect(() => planCompile({ outDir: "dist", targets: ["bogus"] })).toThrow(
    'unknown target "bogus"',
  );
  const twice = ["aarch64-apple-darwin", "aarch64-apple-darwin"];
  expect(() => planCompile({ outDir: "dist", targets: twice })).toThrow("repeated");
  expect(COMPILE_TARGETS).toContain(Deno.build.target);
});

Deno.test("the fastchat program: entry exists, --include covers every migration file", () => {
  expect(existsSync(join(ROOT, FASTCHAT_PROGRAM.entry))).toBe(true);
  for (const inc of FASTCHAT_PROGRAM.include) expect(existsSync(join(ROOT, inc))).toBe(true);
  // db/migrate.ts fetches ./migrations/<file> beside itself: those files must be embedded.
  expect(FASTCHAT_PROGRAM.include).toContain("db/migrations");
  // perf/host_stalls.ts starts this module as a Worker: the binary must carry it.
  expect(FASTCHAT_PROGRAM.include).toContain("perf/host_stall_worker.ts");
  expect(FASTCHAT_PROGRAM.include).toContain("perf/wake_delay_worker.ts");
  for (const f of MIGRATION_FILES) expect(existsSync(join(ROOT, "db/migrations", f))).toBe(true);
  // The binary's baked-in flags are the ones its children may ask for (self_command).
  expect(FASTCHAT_PROGRAM.flags).toEqual(BINARY_DENO_FLAGS);
  expect(denortCachePath("/d", "aarch64-apple-darwin", "2.9.6")).toBe(
    "/d/dl/release/v2.9.6/denort-aarch64-apple-darwin.zip",
  );
});

// Error output of `deno compile` as Deno 2.9 prints it (colours included).
const OFFLINE_STDERR = `\x1b[0m\x1b[32mCompile\x1b[0m client/main.ts to dist/fastchat-client
\x1b[0m\x1b[32mDownload\x1b[0m https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip
\x1b[0m\x1b[1m\x1b[31merror\x1b[0m: Writing deno compile executable to temporary file 'dist/fastchat-client.tmp-1'

Caused by:
    0: Setting up base binary.
    1: error sending request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip): client error (Connect): dns error: failed to lookup address information: Name or service not known
    2: client error (Connect)

Stack backtrace:
   0: <unknown>
`;
const MISSING_DENORT_STDERR = `error: Writing deno compile executable to temporary file 'x.tmp'

Caused by:
    0: Could not find denort at '/nonexistent/denort'
    1: No such file or directory (os error 2)
`;
const NPM_STDERR =
  `Download https://registry.npmjs.org/@msgpackr-extract/msgpackr-extract-darwin-arm64/-/x.tgz
error: Failed caching npm package '@msgpackr-extract/msgpackr-extract-darwin-arm64@3.0.7'
    0: error sending request for url (https://registry.npmjs.org/x.tgz): client error (Connect)
`;
const TYPE_ERROR_STDERR = `Check client/main.ts
TS2322 [ERROR]: Type 'string' is not assignable to type 'number'.
error: Type checking failed.
`;

Deno.test("classifyFailure, mainCause and errorLines read deno compile's output", () => {
  expect(classifyFailure(OFFLINE_STDERR)).toBe("runtime");
  expect(classifyFailure(MISSING_DENORT_STDERR)).toBe("runtime");
  expect(classifyFailure(NPM_STDERR)).toBe("npm");
  expect(classifyFailure(TYPE_ERROR_STDERR)).toBe("other");
  expect(mainCause(OFFLINE_STDERR)).toMatch(
    /^error sending request for url \(https:\/\/dl\.deno\.land\/.*Name or service not known$/,
  );
  expect(mainCause(MISSING_DENORT_STDERR)).toBe("Could not find denort at '/nonexistent/denort'");
  expect(mainCause(NPM_STDERR)).toMatch(/^error: Failed caching npm package/);
  expect(mainCause(TYPE_ERROR_STDERR)).toBe("error: Type checking failed.");
  const lines = errorLines(OFFLINE_STDERR);
  expect(lines.join("\n")).not.toMatch(/Stack backtrace|<unknown>/);
  expect(lines.join("\n")).not.toContain("\x1b");
  expect(lines.some((l) => l.startsWith("Download"))).toBe(false);
});

Deno.test("runtimeFailureMessage: one sentence with what failed, why, and both fixes", () => {
  const m = runtimeFailureMessage({
    binary: "dist/fastchat",
    cause: "dns error",
    target: "x86_64-unknown-linux-gnu",
  });
  expectOneSentence(m);
  expect(m).toContain("cannot build dist/fastchat");
  expect(m).toContain(
    `the Deno ${Deno.version.deno} runtime (denort) for x86_64-unknown-linux-gnu`,
  );
  expect(m).toContain(`downloaded from ${denortUrl("x86_64-unknown-linux-gnu")} (dns error)`);
  expect(m).toContain("set DENORT_BIN to a local denort binary");
  expect(m).toContain("dl.deno.land is reachable");
  const bin = runtimeFailureMessage({
    binary: "dist/fastchat",
    cause: "no such file",
    target: "x86_64-unknown-linux-gnu",
    denortBin: "/x/denort",
  });
  expectOneSentence(bin);
  expect(bin).toContain("DENORT_BIN=/x/denort is not a usable denort binary (no such file)");
  expect(denortUrl("aarch64-apple-darwin", "2.9.6")).toBe(
    "https://dl.deno.land/release/v2.9.6/denort-aarch64-apple-darwin.zip",
  );
});

/** One line, one sentence: a single full stop, at the end (version numbers aside). */
function expectOneSentence(text: string): void {
  const t = text.trim();
  expect(t.split("\n").length).toBe(1);
  expect(t.endsWith(".")).toBe(true);
  expect(t.slice(0, -1).replace(/\d\.\d|\.(land|zip|json|pem)|\.\.\./g, "")).not.toMatch(/\.\s/);
}

/** Runs the script as `deno task compile` would, with `env` replacing the inherited environment. */
const runCompile = (args: string[], env: Record<string, string>) =>
  runScript(SCRIPT, args, { env, cwd: ROOT });

/** The inherited environment without the variables a test controls. */
function baseEnv(): Record<string, string> {
  const env = Deno.env.toObject();
  for (const k of Object.keys(env)) {
    if (/^(DENORT_BIN|DENO_DIR|https?_proxy|all_proxy|no_proxy)$/i.test(k)) delete env[k];
  }
  return env;
}

function expectNoStackTrace(text: string): void {
  expect(text).not.toMatch(/Stack backtrace|^\s+at\s|Uncaught|\.ts:\d+:\d+/m);
}

Deno.test("runtimeProblem: DENORT_BIN must be a file; a cached runtime needs no download", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fastchat_compile_test_" });
  try {
    const target = "aarch64-apple-darwin";
    expect(await runtimeProblem(target, { denortBin: `${dir}/denort` })).toBe("no such file");
    expect(await runtimeProblem(target, { denortBin: dir })).toBe("not a file");
    await Deno.writeFile(`${dir}/denort`, new Uint8Array(1));
    expect(await runtimeProblem(target, { denortBin: `${dir}/denort` })).toBeUndefined();
    // What deno compile downloaded once is in the Deno directory: no probe (none could
    // answer within 1 ms anyway).
    const cached = denortCachePath(dir, target);
    await Deno.mkdir(dirname(cached), { recursive: true });
    await Deno.writeFile(cached, new Uint8Array(1));
    expect(await runtimeProblem(target, { denoDir: dir, timeoutMs: 1 })).toBeUndefined();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "compile script: DENORT_BIN naming a missing file exits 1 with one sentence",
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "fastchat_compile_test_" });
    try {
      const r = await runCompile(["--out", out], {
        ...baseEnv(),
        DENORT_BIN: "/nonexistent/fastchat-test/denort",
      });
      expect(r.code).toBe(1);
      expectOneSentence(r.stderr);
      expect(r.stderr).toContain(`cannot build ${join(out, "fastchat")}`);
      expect(r.stderr).toContain("DENORT_BIN=/nonexistent/fastchat-test/denort is not a usable");
      expect(r.stderr).toContain("dl.deno.land is reachable");
      expect(r.stdout).toBe("");
      expect([...Deno.readDirSync(out)]).toEqual([]);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test({
  name: "compile script: a runtime download that cannot connect exits 1 with one sentence, fast",
  async fn() {
    // Force the real download path to fail, online or not: an empty Deno
    // cache (no denort in it) and every HTTP(S) request sent to a closed port.
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const deadProxy = `http://127.0.0.1:${(l.addr as Deno.NetAddr).port}`;
    l.close();
    const denoDir = await Deno.makeTempDir({ prefix: "fastchat_compile_test_deno_dir_" });
    const out = await Deno.makeTempDir({ prefix: "fastchat_compile_test_" });
    try {
      const target = "aarch64-unknown-linux-gnu";
      const r = await runCompile(["--out", out, "--target", target], {
        ...baseEnv(),
        DENO_DIR: denoDir,
        HTTPS_PROXY: deadProxy,
        HTTP_PROXY: deadProxy,
      });
      expect(r.code).toBe(1);
      expectOneSentence(r.stderr);
      expect(r.stderr).toContain(`cannot build ${join(out, `fastchat-${target}`)}`);
      expect(r.stderr).toContain(`could not be downloaded from ${denortUrl(target)} (`);
      expect(r.stderr).toContain("set DENORT_BIN to a local denort binary");
      expect(r.stderr).toContain("dl.deno.land is reachable");
      // Refused before deno compile ran: nothing compiled, nothing written.
      expect(r.stdout).toBe("");
      expect([...Deno.readDirSync(out)]).toEqual([]);
    } finally {
      await Deno.remove(out, { recursive: true });
      await Deno.remove(denoDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "compile script: usage errors exit 2",
  async fn() {
    const r = await runCompile(["--target", "bogus"], baseEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown target "bogus"');
    expect(r.stderr).toContain("Usage: deno task compile");
    expectNoStackTrace(r.stderr);
    const two = await runCompile(
      ["--target", "aarch64-apple-darwin", "--target", "x86_64-apple-darwin"],
      { ...baseEnv(), DENORT_BIN: "/x/denort" },
    );
    expect(two.code).toBe(2);
    expect(two.stderr).toContain("DENORT_BIN is the runtime of one target");
  },
});
