/**
 * A second FastChat on a port that is taken, as users meet it: `deno task
 * start`, `server`, `lb` and `db` as real processes exit 1 at once with one
 * line, `ADDRESS_IN_USE`, the address, and the flag that picks another port;
 * `start` starts nothing.
 */
import { expect } from "expect";
import { fileURLToPath } from "node:url";
import { runScript } from "@fastchat/testing";

const FASTCHAT = fileURLToPath(new URL("../fastchat/main.ts", import.meta.url));

/**
 * `fastchat <args>` (as `deno task <args>` runs it), to its exit. Servers and
 * load balancers get a database nobody answers at; `start` none, so it
 * would start its embedded one.
 */
async function fastchat(args: string[]) {
  const env = Deno.env.toObject();
  delete env.DATABASE_URL;
  if (args[0] !== "start") env.DATABASE_URL = "postgres://nobody@127.0.0.1:1/none";
  const out = await runScript(FASTCHAT, args, { env });
  const lines = out.stderr.split("\n").filter((l) => l !== "");
  return { code: out.code, lines };
}

const inUse = (name: string, port: number, flag: string) =>
  `fastchat ${name}: ADDRESS_IN_USE: 127.0.0.1:${port} is already in use ` +
  `(is another FastChat running? choose another port with ${flag})`;

/** Runs `fn` with a port something else listens on. */
async function withTakenPort(fn: (port: number) => Promise<void>): Promise<void> {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await fn(taken.addr.port);
  } finally {
    taken.close();
  }
}

Deno.test("deno task start on a taken port: ADDRESS_IN_USE in one line, nothing started", async () => {
  await withTakenPort(async (port) => {
    const data = await Deno.makeTempDir({ prefix: "fastchat-start-in-use-" });
    try {
      const lb = await fastchat([
        "start",
        "--port",
        String(port),
        "--db-port",
        "0",
        "--data",
        data,
      ]);
      expect(lb.code).toBe(1);
      expect(lb.lines).toEqual([inUse("start", port, "--port")]);
      const db = await fastchat([
        "start",
        "--port",
        "0",
        "--db-port",
        String(port),
        "--data",
        data,
      ]);
      expect(db.code).toBe(1);
      expect(db.lines).toEqual([inUse("start", port, "--db-port")]);
      expect([...Deno.readDirSync(data)]).toEqual([]); // no database was started
    } finally {
      await Deno.remove(data, { recursive: true });
    }
  });
});

Deno.test("deno task server and lb on a taken port: ADDRESS_IN_USE in one line, before the database", async () => {
  await withTakenPort(async (port) => {
    for (const name of ["server", "lb"]) {
      const r = await fastchat([name, "--port", String(port)]);
      expect(r.code).toBe(1);
      expect(r.lines).toEqual([inUse(name, port, "--port")]);
    }
    const peer = await fastchat(["server", "--port", "0", "--peer-port", String(port)]);
    expect(peer.code).toBe(1);
    expect(peer.lines).toEqual([inUse("server", port, "--peer-port")]);
  });
});

Deno.test("deno task db on a taken port: ADDRESS_IN_USE, the last line", async () => {
  await withTakenPort(async (port) => {
    const r = await fastchat(["db", "--port", String(port), "--memory"]);
    expect(r.code).toBe(1);
    expect(r.lines.at(-1)).toBe(inUse("db", port, "--port"));
  });
});
