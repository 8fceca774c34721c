/**
 * Parsing of the terminal client's commands. The same commands are typed
 * interactively or read one per line from a script.
 *
 * @example
 * ```ts
 * import { parseCommand } from "@fastchat/client/commands";
 * parseCommand("/msg bob hello there", null); // { cmd: "msg", to: "bob", text: "hello there" }
 * parseCommand("hi", "bob"); // { cmd: "msg", to: "bob", text: "hi" }
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";

/** A parsed command. */
export type Command =
  | { cmd: "register" | "login"; user: string; password?: string }
  | { cmd: "logout" | "whoami" | "help" | "quit" | "close" | "none" }
  | { cmd: "msg"; to: string; text: string }
  | { cmd: "open"; user: string }
  | { cmd: "history"; user: string; n: number }
  | { cmd: "verify"; user: string }
  | { cmd: "trust"; user: string };

/** Help text listing every command. */
export const HELP_TEXT: string = `Commands:
  /register <user> [password]   create an account (prompts for the password when omitted)
  /login <user> [password]      log in (restores your keys from the server in a fresh home)
  /logout                       end the session and revoke its resume token
  /msg <user> <text>            send an end-to-end encrypted direct message
  /open <user>                  make plain lines go to <user>; /close to stop
  /history <user> [n]           show the last n (default 20) messages with <user>
  /verify <user>                show the safety number to compare with <user>
                                (after a key change: the new key's next to the old)
  /trust <user>                 accept <user>'s changed keys (after /verify); unblocks them
  /whoami                       show your user, server id and server address
  /help                         this help
  /quit                         leave (after pending messages are confirmed)`;

function usage(text: string): never {
  throw new FastChatError("BAD_REQUEST", `usage: ${text}`);
}

/**
 * Parses one input line. Plain text goes to the open conversation `openPeer`.
 * Throws `BAD_REQUEST` with a usage hint on malformed commands.
 *
 * @example
 * ```ts
 * import { parseCommand } from "@fastchat/client/commands";
 * parseCommand("/history bob 5", null); // { cmd: "history", user: "bob", n: 5 }
 * ```
 */
export function parseCommand(line: string, openPeer: string | null): Command {
  const trimmed = line.trim();
  if (trimmed === "") return { cmd: "none" };
  if (!trimmed.startsWith("/")) {
    if (!openPeer) {
      throw new FastChatError(
        "BAD_REQUEST",
        "no open conversation: use /msg <user> <text> or /open <user>",
      );
    }
    return { cmd: "msg", to: openPeer, text: line };
  }
  const m = /^\/(\S+)\s*(.*)$/s.exec(trimmed);
  if (!m) throw new FastChatError("BAD_REQUEST", "empty command; try /help");
  const name = m[1].toLowerCase();
  const rest = m[2];
  const args = rest === "" ? [] : rest.split(/\s+/);
  switch (name) {
    case "register":
    case "login":
      if (args.length < 1 || args.length > 2) usage(`/${name} <user> [password]`);
      return { cmd: name, user: args[0], password: args[1] };
    case "logout":
    case "whoami":
    case "help":
    case "quit":
    case "close":
      if (args.length > 0) usage(`/${name}`);
      return { cmd: name };
    case "exit":
      return { cmd: "quit" };
    case "msg": {
      const mm = /^(\S+)\s+(.+)$/s.exec(rest);
      if (!mm) usage("/msg <user> <text>");
      return { cmd: "msg", to: mm[1], text: mm[2] };
    }
    case "open":
      if (args.length !== 1) usage("/open <user>");
      return { cmd: "open", user: args[0] };
    case "history": {
      if (args.length < 1 || args.length > 2) usage("/history <user> [n]");
      const n = args[1] === undefined ? 20 : /^\d+$/.test(args[1]) ? Number(args[1]) : NaN;
      if (!Number.isInteger(n) || n < 1 || n > 100_000) usage("/history <user> [n], n >= 1");
      return { cmd: "history", user: args[0], n };
    }
    case "verify":
      if (args.length !== 1) usage("/verify <user>");
      return { cmd: "verify", user: args[0] };
    case "trust":
      if (args.length !== 1) usage("/trust <user>");
      return { cmd: "trust", user: args[0] };
    default:
      throw new FastChatError("BAD_REQUEST", `unknown command /${name}; try /help`);
  }
}
