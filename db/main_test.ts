import { expect } from "expect";
import { fileURLToPath } from "node:url";
import { connectStore } from "./connect.ts";
import { embeddedDatabaseUrl, PASSWORD_FILE, withPassword } from "./credentials.ts";
import { parseDbArgs } from "./main.ts";
import { DB_READY as READY } from "@fastchat/lib/cluster/ready_lines";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

Deno.test("parseDbArgs: defaults and flags", () => {
  expect(parseDbArgs([])).toEqual({ port: 7432, host: "127.0.0.1", dataDir: "./data/pglite" });
  expect(parseDbArgs(["--port", "0", "--host", "::1", "--data", "/tmp/x"])).toEqual({
    port: 0,
    host: "::1",
    dataDir: "/tmp/x",
  });
  expect(parseDbArgs(["--memory", "--data", "/tmp/x"]).dataDir).toBeUndefined();
  expect(() => parseDbArgs(["--port", "70000"])).toThrow(/invalid --port/);
  expect(() => parseDbArgs(["--bogus"])).toThrow();
});

/** Runs `deno run -A db/main.ts ...args`, resolving once it printed its ready line. */
async function startMain(args: string[], env?: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) break;
    out += value;
  }
  const match = READY.exec(out.trim());
  if (!match) {
    child.kill("SIGKILL");
    await child.status;
    throw new Error(`db/main.ts did not start: ${out}\n${await stderr}`);
  }
  return {
    url: match[1],
    async stop(): Promise<{ code: number; rest: string; stderr: string }> {
      child.kill("SIGTERM");
      let rest = "";
      for (let r = await lines.read(); !r.done; r = await lines.read()) rest += r.value;
      const { code } = await child.status;
      return { code, rest, stderr: await stderr };
    },
  };
}

Deno.test("db/main.ts persists data across a SIGTERM restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fc_main_" });
  try {
    const first = await startMain(["--port", "0", "--data", dataDir]);
    expect(first.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    const sql = connectStore(await embeddedDatabaseUrl(first.url, dataDir));
    await sql`insert into users (username, auth_hash, auth_salt, auth_params, kdf_salt,
      kdf_iterations, enc_key, sign_key, key_backup)
      values ('alice', ${new Uint8Array([1])}, ${new Uint8Array([2])}, 'scrypt:N=16384,r=8,p=1',
      ${new Uint8Array([3])}, 600000, ${new Uint8Array([4])}, ${new Uint8Array([5])},
      ${new Uint8Array([6])})`;
    await sql.end();
    const stopped = await first.stop();
    expect(stopped).toEqual({ code: 0, rest: "", stderr: "" });

    const second = await startMain(["--port", "0", "--data", dataDir]);
    const again = connectStore(await embeddedDatabaseUrl(second.url, dataDir));
    try {
      const rows = await again`select username, kdf_iterations, sign_key from users`;
      expect(rows.length).toBe(1);
      expect(rows[0].username).toBe("alice");
      expect(rows[0].kdf_iterations).toBe(600000);
      expect([...rows[0].sign_key]).toEqual([5]);
    } finally {
      await again.end();
      expect((await second.stop()).code).toBe(0);
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("db/main.ts --memory serves an empty migrated database", async () => {
  const server = await startMain(["--port", "0", "--memory"], { FASTCHAT_DB_PASSWORD: "mem-pw" });
  const sql = connectStore(withPassword(server.url, "mem-pw"));
  try {
    expect(await sql`select count(*) as n from users`).toEqual([{ n: 0 }]);
  } finally {
    await sql.end();
    expect((await server.stop()).code).toBe(0);
  }
});

/** Paths below `dir` whose permission bits let group or others in. */
async function openToOthers(dir: string): Promise<string[]> {
  const found: string[] = [];
  const mode = (await Deno.lstat(dir)).mode! & 0o777;
  if (mode & 0o077) found.push(`${dir} ${mode.toString(8)}`);
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) found.push(...await openToOthers(path));
    else if (!e.isSymlink && (await Deno.lstat(path)).mode! & 0o077) found.push(path);
  }
  return found;
}

Deno.test({
  name: "db/main.ts keeps its data private: 0700 directory, 0600 password, no open file",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "fc_private_" });
    try {
      // an existing world-readable directory with a world-readable file is fixed
      const dataDir = `${root}/pglite`;
      await Deno.mkdir(`${dataDir}/old`, { recursive: true });
      await Deno.writeTextFile(`${dataDir}/old/notes`, "x");
      await Deno.chmod(dataDir, 0o755);
      await Deno.chmod(`${dataDir}/old`, 0o755);
      await Deno.chmod(`${dataDir}/old/notes`, 0o644);
      const server = await startMain(["--port", "0", "--data", dataDir]);
      try {
        expect(server.url).not.toContain(
          ":" + await Deno.readTextFile(`${dataDir}/${PASSWORD_FILE}`),
        );
        expect((await Deno.stat(dataDir)).mode! & 0o777).toBe(0o700);
        expect((await Deno.stat(`${dataDir}/${PASSWORD_FILE}`)).mode! & 0o777).toBe(0o600);
        expect(await openToOthers(dataDir)).toEqual([]);
        const sql = connectStore(await embeddedDatabaseUrl(server.url, dataDir));
        await sql`insert into receipts values ('priv', 'p', 'm')`;
        await sql.end();
      } finally {
        expect((await server.stop()).code).toBe(0);
      }
      expect(await openToOthers(dataDir)).toEqual([]); // also what PGlite wrote at close
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
