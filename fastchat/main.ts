/**
 * `fastchat <command> [options]`: FastChat's one program. `start`,
 * `server`, `lb`, `db`, `client`, `perf` and `analyze` run the component of
 * that name (see `fastchat help`); the `deno task` of the same name runs
 * this file with that command, and `deno task compile` builds it into one
 * `fastchat` binary. `fastchat start` runs the database, servers and load
 * balancer as `fastchat db|server|lb` children of the same program
 * (`@fastchat/lib/self_command`), so it works compiled too.
 *
 * A failure prints one line, `fastchat <command>: CODE: message`, and exits
 * 1 (the client: 2); an unknown command prints the help and exits 2.
 *
 * @example
 * ```ts
 * import { runFastchat } from "@fastchat/cli";
 * runFastchat(["lb", "status"]);
 * ```
 * @module
 */
import { runMain } from "@fastchat/lib/process_main";
import { parseCommandLine, usage, versionText } from "./commands.ts";

/**
 * Runs the `fastchat` command line (without the program name) as this
 * process: prints help or version and exits, or hands over to the
 * subcommand, which exits when it is done (a server keeps running).
 *
 * @example
 * ```ts
 * import { runFastchat } from "@fastchat/cli";
 * runFastchat(["--version"]);
 * ```
 */
export function runFastchat(argv: readonly string[]): void {
  const request = parseCommandLine(argv);
  switch (request.kind) {
    case "help":
      console.log(usage());
      return Deno.exit(0);
    case "version":
      console.log(versionText());
      return Deno.exit(0);
    case "unknown":
      console.error(`fastchat: unknown command ${JSON.stringify(request.name)}\n\n${usage()}`);
      return Deno.exit(2);
    case "run":
      return runMain(request.name, () => request.command.run(request.args), {
        errorExitCode: request.command.errorExitCode,
      });
  }
}

if (import.meta.main) runFastchat(Deno.args);
