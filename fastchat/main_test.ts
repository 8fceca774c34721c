/**
 * The `fastchat` program as real processes: help, version and an unknown
 * command; `fastchat start` from source with TLS and metrics, whose
 * children are `fastchat/main.ts db|server|lb`; and `fastchat start` in
 * the compiled form (`fastchat <sub>` children), with a shell script
 * standing in for the binary through `$FASTCHAT_BINARY`: it records each
 * invocation's pid and subcommand, then runs `deno run fastchat/main.ts`
 * as a compiled binary would run its embedded copy. `fastchat perf` in the
 * compiled form runs its cluster and load workers (`perf-worker`) the same way.
 *
 * `FASTCHAT_START_ECHO=1` echoes the deployments' output.
 */
import { processAlive } from "@fastchat/testing";
import { expect } from "expect";
import { fileURLToPath } from "node:url";
import { ChatClient, viaLoadBalancer } from "@fastchat/client";
import { requestTicket } from "@fastchat/client/lb_client";
import { ManagedProcess } from "@fastchat/lib/managed_process";
import { SERVER_V8_FLAGS } from "@fastchat/lib/runtime_flags";
import { FASTCHAT_BINARY_ENV } from "@fastchat/lib/self_command";
import { FASTCHAT_VERSION } from "@fastchat/lib/version";
import { codeOf } from "@fastchat/testing/assert_code";
import { freePorts, runScript } from "@fastchat/testing";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const TLS_DIR = fileURLToPath(new URL("../server/testdata/tls/", import.meta.url));
const echo = Deno.env.get("FASTCHAT_START_ECHO") === "1";

async function fastchat(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await runScript(MAIN, args);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

/** `name → pid` from start's summary (`  db (pid 1)`, `  server fc-1 at … (pid 2)`). */
function summaryPids(stdout: string[]): Map<string, number> {
  const pids = new Map<string, number>();
  for (const line of stdout) {
    const m = line.match(/^ {2}(db|lb|server \S+)(?: at \S+)? \(pid (\d+)\)$/);
    if (m) pids.set(m[1], Number(m[2]));
  }
  return pids;
}

/** Runs a `fastchat start` process; stops it (SIGINT) after `fn`, and checks all exited. */
async function withStart(
  opts: { command?: string; args: string[]; env?: Record<string, string> },
  fn: (start: ManagedProcess, pids: Map<string, number>) => Promise<void>,
): Promise<void> {
  const data = await Deno.makeTempDir({ prefix: "fastchat-cli-start-" });
  const start = await ManagedProcess.spawn({
    name: "start",
    command: opts.command,
    args: [...opts.args, "--data", data],
    env: opts.env,
    ready: /^Connect with:/,
    echo,
    timeoutMs: 120_000,
  });
  try {
    const pids = summaryPids(start.stdout);
    await fn(start, pids);
    start.kill("SIGINT");
    expect((await start.exited).code).toBe(0);
    for (const [name, pid] of pids) {
      expect({ name, alive: processAlive(pid) }).toEqual({ name, alive: false });
    }
  } finally {
    if (!start.done) {
      start.kill("SIGINT"); // start stops its children
      await start.exited;
    }
    await Deno.remove(data, { recursive: true });
  }
}

/**
 * A stand-in for the compiled binary in a temporary directory: its Deno
 * flags are baked in, its first argument is the subcommand, and it logs
 * `<pid> <subcommand>` per invocation (`exec` keeps the pid).
 */
async function standInBinary(): Promise<{
  dir: string;
  binary: string;
  invocations: () => Promise<Map<number, string>>;
}> {
  const dir = await Deno.makeTempDir({ prefix: "fastchat-cli-binary-" });
  const binary = `${dir}/fastchat`;
  const calls = `${dir}/calls.log`;
  await Deno.writeTextFile(
    binary,
    [
      "#!/bin/sh",
      `echo "$$ $1" >> '${calls}'`,
      `exec '${Deno.execPath()}' run -A ${SERVER_V8_FLAGS} '${MAIN}' "$@"`,
      "",
    ].join("\n"),
  );
  await Deno.chmod(binary, 0o755);
  const invocations = async () =>
    new Map(
      (await Deno.readTextFile(calls)).trim().split("\n").map((l) => {
        const [pid, sub] = l.split(" ");
        return [Number(pid), sub] as const;
      }),
    );
  return { dir, binary, invocations };
}

/** The command line of a running process (Linux), as its arguments. */
async function cmdline(pid: number): Promise<string[]> {
  return (await Deno.readTextFile(`/proc/${pid}/cmdline`)).split("\0").filter((a) => a !== "");
}

Deno.test("fastchat: help, --version, help <command>, and an unknown command", async () => {
  const help = await fastchat([]);
  expect(help.code).toBe(0);
  for (const sub of ["start", "server", "lb", "db", "client", "perf", "analyze"]) {
    expect(help.out).toMatch(new RegExp(`^  ${sub} +\\S`, "m"));
  }
  expect(help.out).not.toContain("perf-worker");
  const version = await fastchat(["--version"]);
  expect([version.code, version.out.trim()]).toEqual([
    0,
    `fastchat ${FASTCHAT_VERSION} (deno ${Deno.version.deno}, ${Deno.build.target})`,
  ]);
  const startHelp = await fastchat(["help", "start"]);
  expect(startHelp.code).toBe(0);
  expect(startHelp.out).toContain("--tls-cert FILE");
  expect(startHelp.out).toContain("--metrics-port P");
  const dbHelp = await fastchat(["help", "db"]);
  expect([dbHelp.code, dbHelp.out]).toEqual([0, expect.stringContaining("--memory")]);
  const unknown = await fastchat(["serve"]);
  expect(unknown.code).toBe(2);
  expect(unknown.err).toContain('fastchat: unknown command "serve"');
  expect(unknown.out).toBe("");
  // A subcommand's failure: one line naming it, exit 1 (the client: 2).
  const bad = await fastchat(["start", "--tls-cert", "x.pem"]);
  expect([bad.code, bad.err.trim()]).toEqual([
    1,
    "fastchat start: INVALID_CONFIG: --tls-cert and --tls-key go together",
  ]);
  const client = await fastchat(["client", "--lb", "nowhere"]);
  expect([client.code, client.err.trim()]).toEqual([
    2,
    'fastchat client: INVALID_CONFIG: expected host:port, got "nowhere"',
  ]);
  // A subcommand's own exit code passes through.
  const analyze = await fastchat(["analyze"]);
  expect([analyze.code, analyze.err.trim()]).toEqual([
    1,
    "analyze: no run directory given (see --help)",
  ]);
});

Deno.test({
  name: "fastchat start (deno run): children run fastchat/main.ts db|server|lb; TLS and metrics",
  async fn() {
    const lbPort = freePorts(1);
    const metrics = freePorts(3); // LB, server 1, server 2
    const ca = await Deno.readTextFile(`${TLS_DIR}ca.pem`);
    const home = await Deno.makeTempDir({ prefix: "fastchat-cli-home-" });
    try {
      await withStart({
        args: [
          "run",
          "-A",
          MAIN,
          "start",
          "--servers",
          "2",
          "--port",
          String(lbPort),
          "--db-port",
          String(freePorts(1)),
          "--tls-cert",
          `${TLS_DIR}server.pem`,
          "--tls-key",
          `${TLS_DIR}server-key.pem`,
          "--metrics-port",
          String(metrics),
        ],
      }, async (start, pids) => {
        expect([...pids.keys()].filter((k) => k.startsWith("server ")).length).toBe(2);
        expect(start.stdout.join("\n")).toContain(
          `Connect with: deno task client -- --lb 127.0.0.1:${lbPort} --tls`,
        );
        if (Deno.build.os === "linux") {
          for (const [name, pid] of pids) {
            const argv = await cmdline(pid);
            const i = argv.indexOf(MAIN);
            expect({ name, sub: argv[i + 1] }).toEqual({ name, sub: name.split(" ")[0] });
            expect(argv.slice(0, 3)).toEqual([Deno.execPath(), "run", "-A"]);
          }
        }
        // Every component serves its metrics: the LB on P, server n on P+n.
        for (const port of [metrics, metrics + 1, metrics + 2]) {
          const res = await fetch(`http://127.0.0.1:${port}/metrics`);
          expect({ port, status: res.status }).toEqual({ port, status: 200 });
          expect(await res.text()).toContain("# TYPE");
        }
        // The LB and the servers speak TLS: a client trusting the test CA registers.
        const lb = { host: "127.0.0.1", port: lbPort };
        const tls = { caCerts: [ca] };
        const client = new ChatClient({
          server: viaLoadBalancer(lb, { tls }),
          tls,
          homeRoot: home,
          kdfIterations: 100_000,
        });
        try {
          await client.register("tess", "tess-password-1");
          expect(client.whoami().user).toBe("tess");
        } finally {
          await client.close();
        }
        // Plain TCP to the TLS load balancer gets no ticket.
        expect(await codeOf(requestTicket(lb, { timeoutMs: 3_000 }))).toBeDefined();
      });
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "fastchat start (compiled form): one binary runs start, and start runs `fastchat db|server|lb`",
  async fn() {
    const { dir, binary, invocations } = await standInBinary();
    const lbPort = freePorts(1);
    try {
      await withStart({
        command: binary,
        args: [
          "start",
          "--servers",
          "1",
          "--port",
          String(lbPort),
          "--db-port",
          String(freePorts(1)),
        ],
        env: { [FASTCHAT_BINARY_ENV]: binary },
      }, async (start, pids) => {
        expect(start.stdout.join("\n")).toContain(
          `Connect with: fastchat client --lb 127.0.0.1:${lbPort}`,
        );
        // pid → subcommand, as the stand-in binary was invoked.
        const invoked = await invocations();
        expect([...invoked.values()].sort()).toEqual(["db", "lb", "server", "start"]);
        expect(invoked.get(start.pid)).toBe("start");
        expect(pids.size).toBe(3);
        for (const [name, pid] of pids) {
          expect({ name, sub: invoked.get(pid) }).toEqual({ name, sub: name.split(" ")[0] });
        }
        // The deployment works: the load balancer hands out a ticket for the server.
        const ticket = await requestTicket({ host: "127.0.0.1", port: lbPort });
        expect(pids.has(`server ${ticket.server}`)).toBe(true);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "fastchat perf (compiled form): the cluster and the workers are `fastchat <sub>` children",
  async fn() {
    const { dir, binary, invocations } = await standInBinary();
    try {
      const run = await new Deno.Command(binary, {
        args: [
          "perf",
          "--clients",
          "2",
          "--messages",
          "5",
          "--servers",
          "1",
          "--workers",
          "2",
          "--kdf-iterations",
          "100000",
          "--out",
          `${dir}/run`,
          "--no-analyze", // its charts cost more CPU than the run; `analyze` is dispatched alike
        ],
        env: { [FASTCHAT_BINARY_ENV]: binary },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
      expect({ code: run.code, out }).toEqual({ code: 0, out: expect.stringContaining("sent 10") });
      const subs = [...(await invocations()).values()].sort();
      expect(subs).toEqual(["db", "lb", "perf", "perf-worker", "perf-worker", "server"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
