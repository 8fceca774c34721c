/**
 * `deno task start` as an operator sees it: run on a real terminal (a
 * pseudo-terminal from util-linux `script`), its children's log events come
 * as text lines, not JSON; `$FASTCHAT_LOG_FORMAT=json` brings JSON back; a
 * bad value is refused before anything starts; Ctrl-C typed on the terminal
 * stops every process.
 */
import { expect } from "expect";
import { fileURLToPath } from "node:url";
import { LOG_FORMAT_ENV } from "@fastchat/lib/log_format";
import { waitUntil } from "@fastchat/lib/wait_until";
import { freePorts, processAlive } from "@fastchat/testing";

const START = fileURLToPath(new URL("./start.ts", import.meta.url));

function hasScript(): boolean {
  if (Deno.build.os !== "linux") return false;
  try {
    return new Deno.Command("script", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** `arg` as one word of a POSIX shell command line. */
function shellQuoted(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** `deno task start --servers 1` on a pseudo-terminal; `env` adds to (or removes from) ours. */
function startOnTerminal(data: string, env: Record<string, string | undefined>) {
  const cmd = [Deno.execPath(), "run", "-A", START, "--servers", "1"]
    .concat(["--port", String(freePorts()), "--db-port", String(freePorts()), "--data", data]);
  const childEnv = Deno.env.toObject();
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = v;
  }
  // `script` runs the command through $SHELL (or /bin/sh where unset); `exec`
  // makes deno the terminal's foreground process itself, so Ctrl-C reaches
  // it and no shell in between dies of the SIGINT (dash does, with 130).
  childEnv.SHELL = "/bin/sh";
  const child = new Deno.Command("script", {
    // -q quiet, -f flush, -e its exit code is the command's; the typescript goes nowhere.
    args: ["-qfec", `exec ${cmd.map(shellQuoted).join(" ")}`, "/dev/null"],
    env: childEnv,
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let text = "";
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const pumped = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      text += decoder.decode(chunk, { stream: true }).replaceAll("\r", "");
      for (const w of waiters.splice(0)) {
        if (w.re.test(text)) w.resolve();
        else waiters.push(w);
      }
    }
  })();
  const stdin = child.stdin.getWriter();
  return {
    get text() {
      return text;
    },
    /** Resolves once the output so far matches `re`. */
    waitFor(re: RegExp): Promise<void> {
      if (re.test(text)) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ re, resolve }));
    },
    /** Types Ctrl-C on the terminal; resolves with the exit code. */
    async interrupt(): Promise<number> {
      await stdin.write(new Uint8Array([0x03]));
      const status = await child.status;
      await pumped;
      await stdin.close().catch(() => {});
      return status.code;
    },
    async kill(): Promise<void> {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.status;
      await stdin.close().catch(() => {});
    },
  };
}

/** The pids of the summary's `db`, `lb` and `server` lines. */
function pidsOf(text: string): number[] {
  return [...text.matchAll(/^ {2}(?:db|lb|server) .*\(pid (\d+)\)$/gm)].map((m) => Number(m[1]));
}

const TIME = String.raw`\d\d:\d\d:\d\d\.\d{3}`;

for (
  const { format, listening } of [
    {
      format: undefined,
      listening: new RegExp(
        String.raw`^server-1 \| ${TIME} INFO  server listening id=fc-\d+ address=127\.0\.0\.1:\d+ `,
        "m",
      ),
    },
    {
      format: "json",
      listening:
        /^server-1 \| \{"ts":"[^"]+","level":"info","component":"server","event":"listening"/m,
    },
  ] as const
) {
  Deno.test({
    name: `deno task start on a terminal, ${LOG_FORMAT_ENV} ${format ?? "unset"}: children log as ${
      format ?? "text"
    }; Ctrl-C stops it`,
    ignore: !hasScript(),
    async fn() {
      const data = await Deno.makeTempDir({ prefix: "fastchat-start-tty-" });
      // Not run under a FastChat parent: no lifeline, and the format is the terminal's.
      const start = startOnTerminal(data, {
        FASTCHAT_LIFELINE: undefined,
        [LOG_FORMAT_ENV]: format,
      });
      try {
        await start.waitFor(/^Connect with:.*\n/m);
        await start.waitFor(/^lb \| .*listening.*\n/m);
        expect(start.text).toMatch(listening);
        const children = start.text.split("\n").filter((l) => /^(?:db|lb|server-\d+) \| /.test(l));
        const json = children.filter((l) => /^\S+ \| \{/.test(l));
        if (format === "json") expect(json.length).toBeGreaterThan(0);
        else expect(json).toEqual([]);
        const pids = pidsOf(start.text);
        expect(pids.length).toBe(3);
        expect(await start.interrupt()).toBe(0);
        expect(start.text).toContain("stopping FastChat");
        await waitUntil(() => pids.every((p) => !processAlive(p)), 30_000, "every process to exit");
      } finally {
        await start.kill();
        await Deno.remove(data, { recursive: true });
      }
    },
  });
}

Deno.test(`deno task start: an unknown ${LOG_FORMAT_ENV} is refused before anything starts`, async () => {
  const data = await Deno.makeTempDir({ prefix: "fastchat-start-bad-" });
  // The database port is taken too: the configuration error is said first.
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        START,
        "--servers",
        "1",
        "--data",
        data,
        "--port",
        String(freePorts()),
        "--db-port",
        String(taken.addr.port),
      ],
      env: { [LOG_FORMAT_ENV]: "pretty" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    expect(out.code).toBe(1);
    expect(new TextDecoder().decode(out.stderr).trim()).toBe(
      `fastchat start: INVALID_CONFIG: ${LOG_FORMAT_ENV} must be json or text, not pretty`,
    );
    expect(new TextDecoder().decode(out.stdout)).toBe("");
    expect([...Deno.readDirSync(data)]).toEqual([]); // no database was created
  } finally {
    taken.close();
    await Deno.remove(data, { recursive: true });
  }
});
