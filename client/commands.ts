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
  | { cmd: "trust"; user: string }
  | { cmd: "group"; op: "create"; group: string; users: string[] }
  | { cmd: "group"; op: "add" | "remove" | "promote"; group: string; user: string }
  | { cmd: "group"; op: "leave" | "members"; group: string }
  | { cmd: "group"; op: "list" }
  | { cmd: "send"; to: string; path: string };

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
  /msg #<group> <text>          send to a group (/open #<group> to stay there)
  /group create <name> [user...] create a group (you are its admin)
  /group add|remove|promote <name> <user>   manage members (admins only)
  /group leave <name>           leave a group
  /group members <name>         list a group's members
  /group list                   list your groups
  /send <user|#group> <path>    send a file (any size up to the server's limit)
  /whoami                       show your user, server id and server address
  /help                         this help
  /quit                         leave (after pending messages are confirmed and uploads finish)`;

function groupName(s: string | undefined): string {
  if (s === undefined) usage("/group <create|add|remove|promote|leave|members|list> …");
  return s.startsWith("#") ? s.slice(1) : s;
}

function parseGroup(args: string[]): Command {
  const [op, name, ...more] = args;
  switch (op) {
    case "create":
      if (name === undefined) usage("/group create <name> [user...]");
      return { cmd: "group", op, group: groupName(name), users: more };
    case "add":
    case "remove":
    case "promote":
      if (name === undefined || more.length !== 1) usage(`/group ${op} <name> <user>`);
      return { cmd: "group", op, group: groupName(name), user: more[0] };
    case "leave":
    case "members":
      if (name === undefined || more.length > 0) usage(`/group ${op} <name>`);
      return { cmd: "group", op, group: groupName(name) };
    case "list":
      if (name !== undefined) usage("/group list");
      return { cmd: "group", op };
    default:
      usage("/group <create|add|remove|promote|leave|members|list> …");
  }
}

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
    case "group":
      return parseGroup(args);
    case "send": {
      const mm = /^(\S+)\s+(.+)$/s.exec(rest);
      if (!mm) usage("/send <user|#group> <path>");
      return { cmd: "send", to: mm[1], path: mm[2].trim() };
    }
    case "open":
      if (args.length !== 1) usage("/open <user|#group>");
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
