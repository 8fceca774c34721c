/**
 * The fabric flags as users meet them: `deno task server` and `deno task
 * start` as real processes exit at once with a clear error for a bad
 * `--fabric`/`--nats` and for a NATS server that does not answer, before
 * starting anything.
 */
import { expect } from "expect";
import { fileURLToPath } from "node:url";

const MAIN = { server: "./main.ts", start: "./start.ts" };

async function run(which: keyof typeof MAIN, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", fileURLToPath(new URL(MAIN[which], import.meta.url)), ...args],
    env: { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("deno task server: bad fabric flags are INVALID_CONFIG before anything starts", async () => {
  const cases: [string[], RegExp][] = [
    [["--fabric", "carrier-pigeon"], /INVALID_CONFIG: --fabric must be direct or nats/],
    [["--fabric", "nats"], /INVALID_CONFIG: --fabric nats needs --nats URL/],
    [["--nats", "http://a:4222"], /INVALID_CONFIG: --nats: http:\/\/ is not a NATS URL/],
    [["--fabric", "nats", "--nats", "a:1", "--nats-namespace", "x.y"], /INVALID_CONFIG/],
  ];
  for (const [args, want] of cases) {
    const r = await run("server", ["--port", "0", ...args]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(want);
  }
});

Deno.test("deno task server and start: a bad --peer-ping-ms is INVALID_CONFIG before anything starts", async () => {
  const cases: [string[], RegExp][] = [
    [["--peer-ping-ms", "0"], /INVALID_CONFIG: --peer-ping-ms must be an integer from 50 to/],
    [["--peer-ping-ms", "soon"], /INVALID_CONFIG: --peer-ping-ms must be a whole number/],
    [
      ["--peer-ping-ms", "500", "--fabric", "nats", "--nats", "a:1"],
      /INVALID_CONFIG: --peer-ping-ms only applies with --fabric direct/,
    ],
  ];
  for (const which of ["server", "start"] as const) {
    for (const [args, want] of cases) {
      const r = await run(which, ["--port", "0", ...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(want);
    }
  }
});

Deno.test("deno task start: a NATS that does not answer is CONNECT_FAILED, nothing started", async () => {
  const port = closedPort();
  const data = await Deno.makeTempDir({ prefix: "fastchat-start-nats-" });
  try {
    const r = await run(
      "start",
      ["--fabric", "nats", "--port", "0", "--db-port", "0", "--data", data],
      { NATS_URL: `nats://user:secret@127.0.0.1:${port}` },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`CONNECT_FAILED: NATS unreachable at nats://***@127.0.0.1:${port}`);
    expect(r.stderr).not.toContain("secret");
    expect([...Deno.readDirSync(data)]).toEqual([]); // no database was started
  } finally {
    await Deno.remove(data, { recursive: true });
  }
});
