import { expect } from "expect";
import { DB_READY, LB_READY, SERVER_READY } from "@fastchat/lib/cluster/ready_lines";
import { SERVER_V8_FLAGS } from "@fastchat/lib/runtime_flags";
import { FASTCHAT_BINARY_ENV } from "@fastchat/lib/self_command";
import { assertCode } from "@fastchat/testing/assert_code";
import { embeddedDbSpec, lbSpec, serverSpec } from "./cluster_specs.ts";

const URL_WITH_SECRET = "postgres://postgres:s3cret@127.0.0.1:5432/x";

Deno.test("serverSpec: ticket-only server on a free port; the database URL only in env", () => {
  const spec = serverSpec({
    name: "srv-1",
    id: "srv-1",
    host: "127.0.0.2",
    dbUrl: URL_WITH_SECRET,
    args: ["--scrypt-n", "1024"],
    echo: true,
  });
  expect(spec.name).toBe("srv-1");
  expect(spec.ready).toBe(SERVER_READY);
  // Children log JSON whatever the launcher's environment says: launchers read their events.
  expect(spec.env).toEqual({ DATABASE_URL: URL_WITH_SECRET, FASTCHAT_LOG_FORMAT: "json" });
  expect(spec.echo).toBe(true);
  expect(spec.command).toBe(Deno.execPath());
  const i = spec.args.findIndex((a) => a.endsWith("/fastchat/main.ts"));
  expect(spec.args.slice(0, i)).toEqual(["run", "-A", SERVER_V8_FLAGS]);
  expect(spec.args.slice(i + 1)).toEqual([
    "server",
    "--port",
    "0",
    "--require-ticket",
    "--host",
    "127.0.0.2",
    "--id",
    "srv-1",
    "--scrypt-n",
    "1024",
  ]);
  expect(spec.args.join(" ")).not.toContain("s3cret");
  // No id, host or port given: the server picks them (fc-<port>, its default host).
  const plain = serverSpec({ name: "server-1", dbUrl: URL_WITH_SECRET, port: 7801 });
  expect(plain.args.slice(-3)).toEqual(["--port", "7801", "--require-ticket"]);
  // deno task start on a terminal asks for text lines.
  const text = serverSpec({ name: "server-1", dbUrl: URL_WITH_SECRET, logFormat: "text" });
  expect(text.env?.FASTCHAT_LOG_FORMAT).toBe("text");
});

Deno.test("lbSpec: key file, algorithm, loopback by default; extra args last", () => {
  const spec = lbSpec({
    name: "lb",
    dbUrl: URL_WITH_SECRET,
    keyFile: "/tmp/k.json",
    algorithm: "least-connections",
    args: ["--rate", "0"],
  });
  expect(spec.ready).toBe(LB_READY);
  expect(spec.env).toEqual({ DATABASE_URL: URL_WITH_SECRET, FASTCHAT_LOG_FORMAT: "json" });
  const i = spec.args.findIndex((a) => a.endsWith("/fastchat/main.ts"));
  expect(spec.args.slice(0, i)).toEqual(["run", "-A"]);
  expect(spec.args.slice(i + 1)).toEqual([
    "lb",
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--algorithm",
    "least-connections",
    "--key",
    "/tmp/k.json",
    "--rate",
    "0",
  ]);
});

Deno.test("embeddedDbSpec: in memory with its password in env, or a data directory", () => {
  const mem = embeddedDbSpec({ name: "db", password: "pw", cpuProfDir: "/tmp/prof" });
  expect(mem.ready).toBe(DB_READY);
  expect(mem.env).toEqual({ FASTCHAT_DB_PASSWORD: "pw", FASTCHAT_LOG_FORMAT: "json" });
  expect(mem.args.slice(0, 5)).toEqual([
    "run",
    "-A",
    "--cpu-prof",
    "--cpu-prof-dir=/tmp/prof",
    "--cpu-prof-name=db.cpuprofile",
  ]);
  expect(mem.args.slice(-4)).toEqual(["db", "--port", "0", "--memory"]);
  expect(mem.args.join(" ")).not.toContain("pw");
  // With a data directory the password lives there: none is passed.
  const disk = embeddedDbSpec({ name: "db", port: 7432, dataDir: "data/pglite", password: "pw" });
  expect(disk.env).toEqual({ FASTCHAT_LOG_FORMAT: "json" });
  expect(disk.args.slice(-4)).toEqual(["--port", "7432", "--data", "data/pglite"]);
});

Deno.test("specs under $FASTCHAT_BINARY: `fastchat <sub>` with no Deno flags; --cpu-prof refused", () => {
  const before = Deno.env.get(FASTCHAT_BINARY_ENV);
  Deno.env.set(FASTCHAT_BINARY_ENV, "/opt/fastchat/bin/fastchat");
  try {
    const server = serverSpec({ name: "srv-1", id: "srv-1", dbUrl: URL_WITH_SECRET });
    expect(server.command).toBe("/opt/fastchat/bin/fastchat");
    // The binary was compiled with the server's V8 flags: none are passed.
    expect(server.args).toEqual(["server", "--port", "0", "--require-ticket", "--id", "srv-1"]);
    const lb = lbSpec({ name: "lb", dbUrl: URL_WITH_SECRET, keyFile: "/tmp/k.json" });
    expect(lb.args.slice(0, 3)).toEqual(["lb", "--port", "0"]);
    const db = embeddedDbSpec({ name: "db", password: "pw" });
    expect([db.command, ...db.args]).toEqual([
      "/opt/fastchat/bin/fastchat",
      "db",
      "--port",
      "0",
      "--memory",
    ]);
    assertCode(
      () => embeddedDbSpec({ name: "db", password: "pw", cpuProfDir: "/tmp/prof" }),
      "INVALID_CONFIG",
    );
  } finally {
    if (before === undefined) Deno.env.delete(FASTCHAT_BINARY_ENV);
    else Deno.env.set(FASTCHAT_BINARY_ENV, before);
  }
});
