/**
 * `docs/configuration.md` against the code: every flag of every program and
 * every environment variable the code reads is documented, nothing is
 * documented that the code lacks (unless marked pending), and the flags the
 * deployment files (`deploy/`) pass exist. Plus the parsers on small inputs.
 */
import { expect } from "expect";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import {
  commandFlags,
  compareReference,
  docSections,
  PENDING_MARK,
  sourceEnvVars,
  sourceFlags,
} from "./config_reference.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DOC = `${ROOT}docs/configuration.md`;

/** Each program: its section in the reference and the files holding its flags (those that exist). */
const PROGRAMS: { section: string; files: string[] }[] = [
  { section: "server", files: ["server/main.ts"] },
  { section: "lb", files: ["lb/main.ts"] },
  { section: "db", files: ["db/main.ts"] },
  { section: "client", files: ["client/main.ts"] },
  { section: "start", files: ["server/start.ts", "server/start_flags.ts"] },
  { section: "perf", files: ["perf/run_config.ts", "perf/run_help.ts"] },
  { section: "analyze", files: ["perf/analyze.ts"] },
  { section: "sweep", files: ["perf/sweep.ts"] },
  { section: "compile", files: ["scripts/compile.ts"] },
  { section: "fuzz", files: ["scripts/fuzz.ts"] },
];

/** Scripts that deployment files run, by reference section. */
const SCRIPTS: Record<string, string> = {
  server: "server/main.ts",
  lb: "lb/main.ts",
  db: "db/main.ts",
};

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Non-test TypeScript sources of the repository (where environment variables are read). */
async function sources(dir = ROOT): Promise<string[]> {
  const skip = new Set(["node_modules", "dist", "data", ".tools", ".git", "out", "testdata"]);
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}${dir.endsWith("/") ? "" : "/"}${e.name}`;
    if (e.isDirectory && !skip.has(e.name) && !e.name.startsWith(".")) {
      out.push(...await sources(path));
    } else if (
      e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts") &&
      !e.name.startsWith("config_reference")
    ) out.push(path);
  }
  return out;
}

Deno.test("sourceFlags reads parseArgs options and the HELP text, not other strings", () => {
  const src = `
    const HELP = \`Usage: x -- [--seed S] [options]
      --port P   listen port
      --tls-cert FILE  PEM certificate (clients: --ca or --tls)
      -k, --tls-key FILE  its key\`;
    parseArgs({ options: {
      port: { type: "string" },
      "max-frame": { type: "string", default: "1" },
      retain: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    } });
    throw new Error("--not-a-flag: only in an error message");`;
  expect(sourceFlags(src)).toEqual([
    "--max-frame",
    "--port",
    "--retain",
    "--seed",
    "--tls-cert",
    "--tls-key",
  ]);
});

Deno.test("sourceEnvVars finds env reads and *_ENV constants", () => {
  const src = `Deno.env.get("A_B"); env("NO_COLOR"); export const X_ENV = "FASTCHAT_X";
    Deno.env.get(name); // dynamic: not a name`;
  expect(sourceEnvVars(src)).toEqual(["A_B", "FASTCHAT_X", "NO_COLOR"]);
});

Deno.test("docSections and compareReference: missing, stale and landed items", () => {
  const doc = docSections([
    "# Title",
    "| `--outside` | not in a section |",
    "## server — chat server",
    "| Flag | Default | Meaning |",
    "| ---- | ------- | ------- |",
    "| `--port P` | 7701 | port |",
    "| `--tls-cert FILE`, `--tls-key FILE` | off | TLS |",
    `| \`--fabric F\` | direct | ${PENDING_MARK} how servers meet |`,
    `| \`--gone\` | | ${PENDING_MARK} |`,
    "| `--stale` | | removed from the code |",
    "## Environment",
    "| `DATABASE_URL` | server | store |",
  ].join("\n"));
  expect([...doc.keys()]).toEqual(["server", "Environment"]);
  expect(doc.get("Environment")).toEqual([{ name: "DATABASE_URL", pending: false }]);
  const problems = compareReference(
    ["--fabric", "--id", "--port", "--tls-cert", "--tls-key"],
    doc.get("server")!,
  );
  expect(problems).toEqual([
    "--id is not documented",
    `--fabric has landed: remove its ${PENDING_MARK} mark`,
    `--stale is documented but not in the code (mark it ${PENDING_MARK}?)`,
  ]);
});

Deno.test("commandFlags takes the program's flags after its script", () => {
  const words = [
    "deno",
    "run",
    "-A",
    "--v8-flags=--x",
    "/opt/fastchat/server/main.ts",
    "--port",
    "7701",
  ];
  expect(commandFlags(words, "server/main.ts")).toEqual(["--port"]);
  expect(commandFlags(["lb/main.ts", "--key=/k", "status"], "lb/main.ts")).toEqual(["--key"]);
  expect(commandFlags(words, "lb/main.ts")).toBeNull();
});

Deno.test("docs/configuration.md documents every flag of every program", async () => {
  const doc = docSections(await Deno.readTextFile(DOC));
  const problems: string[] = [];
  for (const p of PROGRAMS) {
    const texts = (await Promise.all(p.files.map((f) => readIfExists(`${ROOT}${f}`))))
      .filter((t): t is string => t !== null);
    expect(texts.length).toBeGreaterThan(0); // the program exists
    const section = doc.get(p.section);
    if (!section) {
      problems.push(`no "## ${p.section}" section`);
      continue;
    }
    for (const problem of compareReference(sourceFlags(...texts), section)) {
      problems.push(`${p.section}: ${problem}`);
    }
  }
  expect(problems).toEqual([]);
});

Deno.test("docs/configuration.md documents every environment variable the code reads", async () => {
  const doc = docSections(await Deno.readTextFile(DOC));
  const texts = await Promise.all((await sources()).map((f) => Deno.readTextFile(f)));
  const vars = sourceEnvVars(...texts);
  expect(vars).toContain("DATABASE_URL"); // the scan works
  expect(compareReference(vars, doc.get("Environment") ?? [])).toEqual([]);
});

/** Flags a deployment file passes to `section`'s program that the reference does not know. */
function unknownFlags(
  doc: Map<string, { name: string }[]>,
  section: string,
  flags: string[],
): string[] {
  const known = new Set((doc.get(section) ?? []).map((d) => d.name));
  return flags.filter((f) => !known.has(f)).map((f) => `${section} ${f}`);
}

Deno.test("deploy/compose.yaml: postgres, nats, a load balancer and two servers, with known flags", async () => {
  const doc = docSections(await Deno.readTextFile(DOC));
  const compose = parseYaml(await Deno.readTextFile(`${ROOT}deploy/compose.yaml`)) as {
    services: Record<string, { command?: string[]; image?: string; environment?: object }>;
  };
  const services = compose.services;
  expect(services.postgres.image).toMatch(/^postgres:/);
  expect(services.nats.image).toMatch(/^nats:/);
  const run: Record<string, string[]> = { server: [], lb: [], db: [] };
  const unknown: string[] = [];
  for (const [name, s] of Object.entries(services)) {
    for (const [section, script] of Object.entries(SCRIPTS)) {
      const flags = s.command ? commandFlags(s.command, script) : null;
      if (flags === null) continue;
      run[section].push(name);
      unknown.push(...unknownFlags(doc, section, flags));
      // The database password never appears on a command line.
      expect(s.command!.join(" ")).not.toMatch(/postgres:\/\/|--db/);
    }
  }
  expect(run.lb.length).toBe(1);
  expect(run.server.length).toBeGreaterThanOrEqual(2);
  expect(unknown).toEqual([]);
});

Deno.test("deploy/systemd units run known flags of their program", async () => {
  const doc = docSections(await Deno.readTextFile(DOC));
  const dir = `${ROOT}deploy/systemd/`;
  const units: Record<string, string> = {
    "fastchat-server@.service": "server",
    "fastchat-lb.service": "lb",
    "fastchat-db.service": "db",
  };
  const unknown: string[] = [];
  for (const [file, section] of Object.entries(units)) {
    const text = (await Deno.readTextFile(`${dir}${file}`)).replaceAll("\\\n", " ");
    const exec = /^ExecStart=(.*)$/m.exec(text);
    expect(exec).not.toBeNull();
    const flags = commandFlags(exec![1].trim().split(/\s+/), SCRIPTS[section]);
    expect(flags).not.toBeNull();
    unknown.push(...unknownFlags(doc, section, flags!));
  }
  // Extra flags come from the environment file.
  const env = await Deno.readTextFile(`${dir}fastchat.env.example`);
  for (const [key, section] of [["FASTCHAT_SERVER_ARGS", "server"], ["FASTCHAT_LB_ARGS", "lb"]]) {
    const line = new RegExp(`^${key}=(.*)$`, "m").exec(env);
    expect(line).not.toBeNull();
    const flags = commandFlags([SCRIPTS[section], ...line![1].split(/\s+/)], SCRIPTS[section]);
    unknown.push(...unknownFlags(doc, section, flags!));
  }
  expect(unknown).toEqual([]);
});
