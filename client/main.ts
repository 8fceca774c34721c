/**
 * `deno task client -- [--server host:port] [--home DIR] [--json] [--tls] [--ca FILE]`
 *
 * Interactive when stdin is a terminal; otherwise reads the same commands
 * one per line (scriptable) until `/quit` or end of input.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { FastChatError } from "@fastchat/lib/errors";
import { parseHostPort } from "@fastchat/lib/host_port";
import { colorEnabledByDefault } from "./ansi.ts";
import { LineEditor, readLines } from "./line_editor.ts";
import { viaLoadBalancer } from "./chat_client.ts";
import { TerminalApp } from "./terminal_app.ts";

/** Where `deno task start` runs its load balancer. */
export const DEFAULT_LB = "127.0.0.1:7700";

const HELP = `Usage: deno task client -- [options]
  --lb host:port       load balancer that picks a server (default $FASTCHAT_LB or ${DEFAULT_LB})
  --server host:port   connect to this chat server directly instead (or $FASTCHAT_SERVER)
  --home DIR           key and history root; files go to DIR/<user> (default ~/.fastchat)
  --json               print events as JSON lines (for scripts)
  --tls                connect to the load balancer (or --server) with TLS; a server the load
                       balancer names is dialled with TLS when the load balancer says it serves TLS
  --ca FILE            trust an extra root certificate (PEM) for every TLS connection; implies --tls
  --no-color           plain output
  --ping-ms MS         ping a quiet server after MS; a link quiet for 3 x MS is dead and the
                       session moves to another server (default 10000; 0 = never)
Commands are read from stdin: type /help once running.`;

/** Parses `host:port` (IPv6 as `[::1]:7701`); `INVALID_CONFIG` otherwise. */
export { parseHostPort };

function pingMs(v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isSafeInteger(n) || n < 0) {
    throw new FastChatError("INVALID_CONFIG", "--ping-ms must be a non-negative integer");
  }
  return n;
}

/**
 * Runs the `client` command line (without the program name); resolves with
 * the exit code when the session ends.
 *
 * @example
 * ```ts
 * import { main } from "@fastchat/client/main";
 * Deno.exit(await main(["--lb", "127.0.0.1:7700", "--json"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    // `deno task x -- --flag` passes the `--` through.
    args: args[0] === "--" ? args.slice(1) : args,
    options: {
      server: { type: "string" },
      lb: { type: "string" },
      home: { type: "string" },
      json: { type: "boolean", default: false },
      tls: { type: "boolean", default: false },
      ca: { type: "string" },
      "no-color": { type: "boolean", default: false },
      "kdf-iterations": { type: "string" },
      "ping-ms": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.server && values.lb) {
    throw new FastChatError("INVALID_CONFIG", "use either --server or --lb, not both");
  }
  const tls = values.tls || values.ca
    ? { caCerts: values.ca ? [await Deno.readTextFile(values.ca)] : undefined }
    : undefined;
  const direct = values.server ?? (values.lb ? undefined : Deno.env.get("FASTCHAT_SERVER"));
  const server = direct
    ? parseHostPort(direct)
    : viaLoadBalancer(parseHostPort(values.lb ?? Deno.env.get("FASTCHAT_LB") ?? DEFAULT_LB), {
      tls,
    });
  const tty = Deno.stdin.isTerminal() && !values.json;
  const encoder = new TextEncoder();
  const app = new TerminalApp({
    server,
    homeRoot: values.home,
    tls,
    kdfIterations: values["kdf-iterations"] ? Number(values["kdf-iterations"]) : undefined,
    pingMs: values["ping-ms"] === undefined ? undefined : pingMs(values["ping-ms"]),
    json: values.json,
    color: !values["no-color"] && colorEnabledByDefault(),
    input: tty
      ? { kind: "tty", editor: LineEditor.forTerminal() }
      : { kind: "script", lines: readLines(Deno.stdin.readable) },
    print: (line) => {
      const b = encoder.encode(line + "\n");
      let off = 0;
      while (off < b.length) off += Deno.stdout.writeSync(b.subarray(off));
    },
  });
  return await app.run();
}

if (import.meta.main) {
  main(Deno.args).then((code) => Deno.exit(code)).catch((e) => {
    const err = FastChatError.from(e);
    console.error(`fastchat client: ${err.code}: ${err.message}`);
    Deno.exit(2);
  });
}
