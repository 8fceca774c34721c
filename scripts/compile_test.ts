/**
 * `scripts/compile.ts`: the `deno compile` command plan, the failure
 * classification, and — as a real process — the one clear message and exit
 * code 1 when the Deno runtime (denort) cannot be had. Actually producing
 * binaries needs that runtime, which this test does not download.
 */
import { expect } from "expect";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MIGRATION_FILES } from "@fastchat/db/migrations";
import {
  classifyFailure,
  denortUrl,
  errorLines,
  mainCause,
  planCompile,
  ROOT,
  runtimeFailureMessage,
  TARGETS,
  UsageError,
} from "./compile.ts";

const SCRIPT = fileURLToPath(new URL("./compile.ts", import.meta.url));
const allExist = () => true;
const noLb = (entry: string) => entry !== "lb/main.ts";

Deno.test("planCompile: server, client and db by default, with their --include", () => {
  const steps = planCompile({ outDir: "/out", exists: noLb });
  expect(steps).toEqual([
    {
      name: "server",
      entry: "server/main.ts",
      output: "/out/fastchat-server",
      args: [
        "compile",
        "-A",
        "--v8-flags=--max-semi-space-size=1",
        "--output",
        "/out/fastchat-server",
        "--include",
        "db/migrations",
        "server/main.ts",
      ],
    },
    {
      name: "client",
      entry: "client/main.ts",
      output: "/out/fastchat-client",
      args: ["compile", "-A", "--output", "/out/fastchat-client", "client/main.ts"],
    },
    {
      name: "db",
      entry: "db/main.ts",
      output: "/out/fastchat-db",
      args: [
        "compile",
        "-A",
        "--output",
        "/out/fastchat-db",
        "--include",
        "db/migrations",
        "db/main.ts",
      ],
    },
  ]);
});

Deno.test("planCompile: lb only when lb/main.ts exists", () => {
  expect(planCompile({ outDir: "dist", exists: allExist }).map((s) => s.name)).toEqual([
    "server",
    "client",
    "db",
    "lb",
  ]);
  const lb = planCompile({ outDir: "dist", exists: allExist, only: ["lb"] });
  expect(lb.map((s) => s.args)).toEqual([
    ["compile", "-A", "--output", "dist/fastchat-lb", "lb/main.ts"],
  ]);
  expect(() => planCompile({ outDir: "dist", exists: noLb, only: ["lb"] })).toThrow(
    "lb: lb/main.ts does not exist",
  );
  // The default check looks at the real tree.
  expect(planCompile({ outDir: "dist" }).some((s) => s.name === "lb")).toBe(
    existsSync(join(ROOT, "lb/main.ts")),
  );
});

Deno.test("planCompile: --only and --target", () => {
  const steps = planCompile({
    outDir: "/o",
    only: ["client", "server"],
    target: "aarch64-apple-darwin",
    exists: noLb,
  });
  expect(steps.map((s) => s.name)).toEqual(["server", "client"]);
  expect(steps[1].args).toEqual([
    "compile",
    "-A",
    "--output",
    "/o/fastchat-client",
    "--target",
    "aarch64-apple-darwin",
    "client/main.ts",
  ]);
  // The entry module is always the last argument.
  for (const s of steps) expect(s.args.at(-1)).toBe(s.entry);
  const win = planCompile({ outDir: "/o", only: ["db"], target: "x86_64-pc-windows-msvc" });
  expect(win[0].output).toBe("/o/fastchat-db.exe");
});

Deno.test("planCompile: unknown names and start are usage errors", () => {
  expect(() => planCompile({ outDir: "dist", only: ["bogus"] })).toThrow(UsageError);
  expect(() => planCompile({ outDir: "dist", only: ["bogus"] })).toThrow(
    'unknown program "bogus"',
  );
  expect(() => planCompile({ outDir: "dist", only: ["start"] })).toThrow(/server\/start\.ts/);
});

Deno.test("compile targets: entries exist and --include covers every migration file", () => {
  for (const t of TARGETS) {
    if (t.name !== "lb") expect(existsSync(join(ROOT, t.entry))).toBe(true);
    for (const inc of t.include) expect(existsSync(join(ROOT, inc))).toBe(true);
  }
  // db/migrate.ts fetches ./migrations/<file> beside itself: those files must be embedded.
  for (const name of ["server", "db"]) {
    const t = TARGETS.find((x) => x.name === name)!;
    expect(t.include).toContain("db/migrations");
  }
  for (const f of MIGRATION_FILES) expect(existsSync(join(ROOT, "db/migrations", f))).toBe(true);
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

Deno.test("runtimeFailureMessage says what failed, why, and both fixes", () => {
  const m = runtimeFailureMessage({
    binary: "dist/fastchat-server",
    cause: "dns error",
    target: "x86_64-unknown-linux-gnu",
  });
  expect(m).toContain("building dist/fastchat-server failed");
  expect(m).toContain("cause: dns error");
  expect(m).toContain("downloads a runtime (denort) from the internet");
  expect(m).toContain("DENORT_BIN=/path/to/denort");
  expect(m).toContain("dl.deno.land is reachable");
  expect(m).toContain(denortUrl("x86_64-unknown-linux-gnu"));
  expect(denortUrl("aarch64-apple-darwin", "2.9.6")).toBe(
    "https://dl.deno.land/release/v2.9.6/denort-aarch64-apple-darwin.zip",
  );
});

/** Runs the script as `deno task compile` would, with `env` replacing the inherited environment. */
async function runScript(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, ...args],
    cwd: ROOT,
    clearEnv: true,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

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

Deno.test({
  name: "compile script: DENORT_BIN naming a missing file exits 1 with the clear message",
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "fastchat_compile_test_" });
    try {
      const r = await runScript(["--out", out, "--only", "client"], {
        ...baseEnv(),
        DENORT_BIN: "/nonexistent/fastchat-test/denort",
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`building ${join(out, "fastchat-client")} failed`);
      expect(r.stderr).toContain("/nonexistent/fastchat-test/denort");
      expect(r.stderr).toContain("DENORT_BIN=/path/to/denort");
      expect(r.stderr).toContain("dl.deno.land is reachable");
      expectNoStackTrace(r.stderr);
      expect([...Deno.readDirSync(out)]).toEqual([]);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test({
  name: "compile script: a runtime download that cannot connect exits 1 with the clear message",
  async fn() {
    // Force the real download path to fail fast, online or not: an empty Deno
    // cache (no denort in it) and every HTTP(S) request sent to a closed port.
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const deadProxy = `http://127.0.0.1:${(l.addr as Deno.NetAddr).port}`;
    l.close();
    const denoDir = await Deno.makeTempDir({ prefix: "fastchat_compile_test_deno_dir_" });
    const out = await Deno.makeTempDir({ prefix: "fastchat_compile_test_" });
    try {
      const r = await runScript(["--out", out, "--only", "client"], {
        ...baseEnv(),
        DENO_DIR: denoDir,
        HTTPS_PROXY: deadProxy,
        HTTP_PROXY: deadProxy,
      });
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("compiling client/main.ts");
      expect(r.stderr).toContain("the Deno runtime (denort)");
      expect(r.stderr).toMatch(/cause: .*dl\.deno\.land\/release\/v[\d.]+\/denort-/);
      expect(r.stderr).toContain("`deno compile` downloads a runtime (denort) from the internet");
      expect(r.stderr).toContain("DENORT_BIN=/path/to/denort");
      expect(r.stderr).toContain("dl.deno.land is reachable");
      expectNoStackTrace(r.stderr);
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
    const r = await runScript(["--only", "bogus"], baseEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown program "bogus"');
    expect(r.stderr).toContain("Usage: deno task compile");
    expectNoStackTrace(r.stderr);
  },
});
