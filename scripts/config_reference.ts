/**
 * Keeps `docs/configuration.md` true: reads the flags each program accepts
 * from its source (the `parseArgs` options and the `--flags` of its `HELP`
 * text) and the environment variables the code reads, and compares them with
 * the reference. A flag or variable that is documented but not in the code
 * yet must be marked {@link PENDING_MARK} (work being merged); once the code
 * has it, the mark must go. `config_reference_test.ts` runs the comparison
 * over the repository, so a new flag without documentation fails the tests.
 *
 * @example
 * ```ts
 * import { compareReference, docSections, sourceFlags } from "./config_reference.ts";
 * const code = sourceFlags(`options: { port: { type: "string" } }`);
 * const doc = docSections("## server\n| `--port P` | 7701 | listen port |\n");
 * console.log(compareReference(code, doc.get("server")!)); // []
 * ```
 * @module
 */

/** What marks a documented flag or variable whose code is not merged yet. */
export const PENDING_MARK = "(pending merge)";

const OPTION_KEY = /^\s*"?([a-z][a-z0-9-]*)"?: \{ type: "(?:string|boolean)"/gm;
const HELP_TEXT = /const HELP\s*=\s*`([\s\S]*?)`;/g;
const FLAG = /(?<![\w-])--([a-z][a-z0-9-]*)/g;

/**
 * The long flags a program's source declares: keys of `parseArgs` options
 * (`port: { type: "string" }`) and, in its `const HELP = \`…\`` text, the
 * flag that starts an option line and the flags of usage lines; `--help`
 * is left out. Sorted.
 *
 * @example
 * ```ts
 * import { sourceFlags } from "./config_reference.ts";
 * sourceFlags('"tls-cert": { type: "string" },\nconst HELP = `  --db URL  store`;');
 * // ["--db", "--tls-cert"]
 * ```
 */
export function sourceFlags(...sources: string[]): string[] {
  const flags = new Set<string>();
  for (const src of sources) {
    for (const m of src.matchAll(OPTION_KEY)) flags.add(`--${m[1]}`);
    for (const help of src.matchAll(HELP_TEXT)) {
      for (const line of help[1].split("\n")) {
        // An option line names its flag first; a usage line may name several. Other lines
        // are prose, which may mention other programs' flags ("clients: --tls").
        const option = /^\s*(?:-\w, )?--([a-z][a-z0-9-]*)/.exec(line);
        if (option) flags.add(`--${option[1]}`);
        else if (/Usage:|^\s*\[/.test(line)) {
          for (const m of line.matchAll(FLAG)) flags.add(`--${m[1]}`);
        }
      }
    }
  }
  flags.delete("--help");
  return [...flags].sort();
}

const ENV_READ = /(?:Deno\.env\.get|\benv)\(\s*"([A-Z][A-Z0-9_]*)"\s*\)/g;
const ENV_CONST = /\b[A-Z][A-Z0-9_]*_ENV\s*(?::\s*string\s*)?=\s*"([A-Z][A-Z0-9_]*)"/g;

/**
 * The environment variables a source file reads: `Deno.env.get("NAME")`,
 * `env("NAME")` (an injected reader) and `SOMETHING_ENV = "NAME"` constants.
 *
 * @example
 * ```ts
 * import { sourceEnvVars } from "./config_reference.ts";
 * sourceEnvVars('Deno.env.get("DATABASE_URL"); const PASSWORD_ENV = "FASTCHAT_DB_PASSWORD";');
 * // ["DATABASE_URL", "FASTCHAT_DB_PASSWORD"]
 * ```
 */
export function sourceEnvVars(...sources: string[]): string[] {
  const names = new Set<string>();
  for (const src of sources) {
    for (const m of src.matchAll(ENV_READ)) names.add(m[1]);
    for (const m of src.matchAll(ENV_CONST)) names.add(m[1]);
  }
  return [...names].sort();
}

/** One documented item: its name and whether its row is marked {@link PENDING_MARK}. */
export interface DocEntry {
  name: string;
  pending: boolean;
}

/**
 * The reference split by `## ` headings (keyed by the heading's first
 * word), each with the items its table rows document: every `` `--flag` ``
 * or `` `NAME` `` (upper case) in a row's first cell.
 *
 * @example
 * ```ts
 * import { docSections } from "./config_reference.ts";
 * const s = docSections("## lb — load balancer\n| `--port P`, `-p` | x |\n| `--new` | (pending merge) |\n");
 * s.get("lb"); // [{ name: "--port", pending: false }, { name: "--new", pending: true }]
 * ```
 */
export function docSections(markdown: string): Map<string, DocEntry[]> {
  const sections = new Map<string, DocEntry[]>();
  let current: DocEntry[] | null = null;
  for (const line of markdown.split("\n")) {
    const heading = /^## +`?([A-Za-z][\w-]*)/.exec(line);
    if (heading) {
      current = [];
      sections.set(heading[1], current);
      continue;
    }
    if (!current || !line.startsWith("|")) continue;
    const firstCell = line.split("|")[1] ?? "";
    const pending = line.includes(PENDING_MARK);
    for (const m of firstCell.matchAll(/`(--[a-z][a-z0-9-]*|[A-Z][A-Z0-9_]*)\b[^`]*`/g)) {
      if (m[1] !== "--help") current.push({ name: m[1], pending });
    }
  }
  return sections;
}

/**
 * Compares what the code has with what a section documents; returns one
 * sentence per mismatch (empty when the reference is true): undocumented
 * items, documented ones the code lacks without {@link PENDING_MARK}, and
 * pending ones that have landed.
 *
 * @example
 * ```ts
 * import { compareReference } from "./config_reference.ts";
 * compareReference(["--port", "--id"], [{ name: "--port", pending: false }]);
 * // ["--id is not documented"]
 * ```
 */
export function compareReference(code: readonly string[], doc: readonly DocEntry[]): string[] {
  const problems: string[] = [];
  const inCode = new Set(code);
  const documented = new Map(doc.map((d) => [d.name, d]));
  for (const name of code) {
    if (!documented.has(name)) problems.push(`${name} is not documented`);
  }
  for (const d of documented.values()) {
    if (!inCode.has(d.name) && !d.pending) {
      problems.push(`${d.name} is documented but not in the code (mark it ${PENDING_MARK}?)`);
    }
    if (inCode.has(d.name) && d.pending) {
      problems.push(`${d.name} has landed: remove its ${PENDING_MARK} mark`);
    }
  }
  return problems;
}

/**
 * The program flags of a command line that runs `script` (what follows the
 * script path; Deno's own flags before it are not the program's), or null
 * when the command does not run it.
 *
 * @example
 * ```ts
 * import { commandFlags } from "./config_reference.ts";
 * commandFlags(["deno", "run", "-A", "/app/lb/main.ts", "--port", "7700", "--key=/k"], "lb/main.ts");
 * // ["--key", "--port"]
 * ```
 */
export function commandFlags(words: readonly string[], script: string): string[] | null {
  const at = words.findIndex((w) => w === script || w.endsWith(`/${script}`));
  if (at === -1) return null;
  const flags = new Set<string>();
  for (const w of words.slice(at + 1)) {
    const m = /^(--[a-z][a-z0-9-]*)/.exec(w);
    if (m) flags.add(m[1]);
  }
  return [...flags].sort();
}
