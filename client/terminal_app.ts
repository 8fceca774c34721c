/**
 * The terminal client: runs commands from an interactive line editor or a
 * script (one command per line), and prints the client's events as human
 * lines or, with `--json`, one JSON object per line.
 *
 * @example
 * ```ts
 * import { TerminalApp } from "@fastchat/client/terminal_app";
 * const app = new TerminalApp({
 *   server: { host: "127.0.0.1", port: 7701 },
 *   json: true,
 *   input: { kind: "script", lines: ["/login alice secret-password", "/msg bob hi", "/quit"] },
 *   print: (line) => console.log(line),
 * });
 * await app.run();
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import { makeStyle, type Style } from "./ansi.ts";
import { ChatClient, type ChatClientOptions } from "./chat_client.ts";
import { type Command, HELP_TEXT, parseCommand } from "./commands.ts";
import type { ClientEvent } from "./events.ts";
import type { LineEditor } from "./line_editor.ts";
import { formatBytes, transferBar } from "./transfer_bar.ts";

/** Where commands come from. */
export type CommandInput =
  | { kind: "tty"; editor: LineEditor }
  | { kind: "script"; lines: AsyncIterable<string> | Iterable<string> };

/** Options of a {@link TerminalApp}. */
export interface TerminalAppOptions extends Omit<ChatClientOptions, "onEvent"> {
  json: boolean;
  color?: boolean;
  input: CommandInput;
  /** Prints one line of output (stdout). */
  print: (line: string) => void;
  /** How long /quit and end of input wait for unconfirmed messages (default 10 s). */
  quitTimeoutMs?: number;
}

/** How long a stored message waits for its `delivered` before "✓ sent" is shown instead. */
const SENT_QUIET_MS = 400;

function time(ms: number): string {
  return new Date(ms).toTimeString().slice(0, 8);
}

function retryHint(retryMs: number | undefined): string {
  return retryMs === undefined ? "" : ` (retry in ${Math.max(1, Math.ceil(retryMs / 1000))} s)`;
}

/**
 * Formats an event for humans.
 *
 * @example
 * ```ts
 * import { formatEvent } from "@fastchat/client/terminal_app";
 * import { makeStyle } from "@fastchat/client/ansi";
 * formatEvent({ event: "sent", id: "abcdefgh12", to: "bob" }, makeStyle(false), "alice");
 * ```
 */
export function formatEvent(e: ClientEvent, st: Style, me: string | null): string | null {
  switch (e.event) {
    case "ready":
      return st.green(`logged in as ${e.user} on ${e.server} (${e.address})`);
    case "message":
      if ("group" in e) {
        return `${st.gray(time(e.sent_at))} ${st.magenta(`#${e.group}`)} ${
          st.bold(st.cyan(e.from))
        }: ${e.text}`;
      }
      return `${st.gray(time(e.sent_at))} ${st.bold(st.cyan(e.from))}${
        e.to === me ? "" : st.gray(` → ${e.to}`)
      }: ${e.text}`;
    case "group":
      return st.magenta(groupChange(e, me));
    case "members":
      return `#${e.group}: ${
        e.members.map((m) => m.admin ? `${m.user} (admin)` : m.user).join(", ")
      }`;
    case "groups":
      return e.groups.length === 0
        ? st.gray("you are in no groups")
        : e.groups.map((g) => `#${g.name}  ${g.members} members${g.admin ? "  (admin)" : ""}`)
          .join("\n");
    case "file": {
      const what = e.image ? `image ${e.image.width}×${e.image.height}` : e.mime;
      return `${st.bold(st.cyan(e.from))}${e.group ? st.magenta(` #${e.group}`) : ""} sent ${
        st.bold(e.name)
      } (${formatBytes(e.bytes)}, ${what}) → ${e.path}`;
    }
    case "progress":
      return null;
    case "sent":
      return null; // shown by TerminalApp when no `delivered` follows soon (see #sent)
    case "delivered":
      return st.gray(`✓✓ delivered to ${e.to} (${e.id.slice(0, 8)})`);
    case "error":
      return e.code === "KEY_CHANGED"
        ? st.bold(st.red(`!!! ${e.message}`))
        : st.red(`error ${e.code}: ${e.message}${retryHint(e.retryMs)}`);
    case "disconnected":
      return st.yellow(`disconnected (${e.code}); reconnecting…`);
    case "reconnected":
      return st.green(`reconnected to ${e.server} (${e.address})`);
    case "whoami":
      return e.user
        ? `you are ${e.user} on server ${e.server} (${e.address})`
        : `not logged in${e.address ? ` (connected to ${e.address})` : ""}`;
    case "history":
      return e.messages.length === 0
        ? st.gray(`no history with ${e.peer}`)
        : e.messages.map((m) =>
          `${st.gray(time(m.sent_at))} ${st.bold(m.from === me ? "you" : m.from)}: ${m.text}`
        ).join("\n");
    case "key_changed":
      return st.red(e.message);
    case "trusted":
      return st.green(`trusted ${e.user}'s new keys; messages to and from ${e.user} resume`);
    case "verify":
      if (e.new_safety_number) {
        return `${e.peer}'s keys CHANGED. safety number for ${e.user} and ${e.peer}:\n  old (pinned): ${e.safety_number}\n  new:          ${
          st.bold(e.new_safety_number)
        }\ncompare the new one with ${e.peer} over another channel; only if it matches: /trust ${e.peer}`;
      }
      return `safety number for ${e.user} and ${e.peer}:\n  ${
        st.bold(e.safety_number)
      }\ncompare it with ${e.peer} over another channel; if it differs, do not trust the keys.`;
    case "logged_out":
      return `logged out ${e.user}`;
    case "info":
      return e.message;
  }
}

function groupChange(
  e: Extract<ClientEvent, { event: "group" }>,
  me: string | null,
): string {
  const who = (u: string) => (u === me ? "you" : u);
  switch (e.change) {
    case "created":
      return `#${e.group} created by ${who(e.by)}: ${(e.members ?? []).map(who).join(", ")}`;
    case "added":
      return `#${e.group}: ${who(e.by)} added ${who(e.user)}`;
    case "removed":
      return `#${e.group}: ${who(e.by)} removed ${who(e.user)}`;
    case "left":
      return `#${e.group}: ${who(e.user)} left`;
    case "promoted":
      return `#${e.group}: ${who(e.user)} ${e.user === me ? "are" : "is"} now an admin`;
  }
}

/**
 * Command loop of the terminal client.
 *
 * @example
 * ```ts
 * import { TerminalApp } from "@fastchat/client/terminal_app";
 * declare const app: TerminalApp;
 * const exitCode = await app.run();
 * ```
 */
export class TerminalApp {
  readonly #o: TerminalAppOptions;
  readonly #client: ChatClient;
  readonly #style: Style;
  #open: string | null = null;
  #lines: AsyncIterator<string> | null = null;
  /** Where each message this session sent went (id → user or #group), until confirmed. */
  readonly #targets = new Map<string, string>();
  /** Ids confirmed as stored whose `delivered` has not come yet (shown as sent after a moment). */
  readonly #unshownSent = new Map<string, ReturnType<typeof setTimeout>>();
  /** Uploads running behind the interactive prompt. */
  readonly #uploads = new Set<Promise<void>>();

  constructor(opts: TerminalAppOptions) {
    this.#o = opts;
    this.#style = makeStyle(!opts.json && (opts.color ?? false));
    this.#client = new ChatClient({ ...opts, onEvent: (e) => this.#event(e) });
  }

  /** The underlying client library instance. */
  get client(): ChatClient {
    return this.#client;
  }

  #out(text: string): void {
    if (this.#o.input.kind === "tty") this.#o.input.editor.print(text);
    else this.#o.print(text);
  }

  #event(e: ClientEvent): void {
    if (this.#o.json) {
      this.#out(JSON.stringify(e));
      return;
    }
    if (e.event === "progress") return this.#progress(e);
    if (e.event === "sent") return this.#sent(e.id);
    if (e.event === "delivered") this.#forget(e.id);
    if (e.event === "error" && e.id) this.#forget(e.id);
    const text = formatEvent(e, this.#style, this.#client.user);
    if (text !== null) this.#out(text);
  }

  /**
   * A message was stored. Its `delivered` usually follows at once when the
   * recipient is online; only when none comes within a moment (an offline
   * recipient, a group) is "✓ sent" shown, so every message gets a receipt
   * line without doubling the usual one.
   */
  #sent(id: string): void {
    if (this.#unshownSent.has(id)) return;
    this.#unshownSent.set(
      id,
      setTimeout(() => this.#showSent(id), SENT_QUIET_MS),
    );
  }

  #showSent(id: string): void {
    clearTimeout(this.#unshownSent.get(id));
    this.#unshownSent.delete(id);
    const to = this.#targets.get(id);
    this.#targets.delete(id);
    this.#out(this.#style.gray(`✓ sent${to ? ` to ${to}` : ""} (${id.slice(0, 8)})`));
  }

  #forget(id: string): void {
    clearTimeout(this.#unshownSent.get(id));
    this.#unshownSent.delete(id);
    this.#targets.delete(id);
  }

  #sending(id: string, to: string): void {
    if (this.#o.json) return; // JSON shows `sent` and `delivered` as they come
    if (this.#targets.size >= 10_000) this.#targets.delete(this.#targets.keys().next().value!);
    this.#targets.set(id, to);
  }

  #reportError(e: unknown): void {
    const err = FastChatError.from(e);
    const retryMs = err.details?.retryMs;
    this.#event({
      event: "error",
      code: err.code,
      message: err.message,
      ...(retryMs === undefined ? {} : { retryMs }),
    });
  }

  /** Transfers in progress, shown as a bar in front of the prompt (redrawn in place). */
  readonly #transfers = new Map<
    string,
    { name: string; done: number; total: number; start: number; up: boolean }
  >();

  #progress(e: Extract<ClientEvent, { event: "progress" }>): void {
    const t = this.#transfers.get(e.id) ??
      { name: e.name, done: 0, total: e.total, start: Date.now(), up: e.direction === "up" };
    t.done = e.done;
    if (e.done >= e.total) {
      this.#transfers.delete(e.id);
      if (t.up) this.#out(this.#style.gray(`uploaded ${e.name} (${formatBytes(e.total)})`));
    } else this.#transfers.set(e.id, t);
    if (this.#o.input.kind === "tty") this.#o.input.editor.setPrompt(this.#prompt());
  }

  #prompt(): string {
    const u = this.#client.user;
    let bars = "";
    for (const t of this.#transfers.values()) {
      bars += this.#style.cyan(
        `${t.up ? "↑" : "↓"}${transferBar({ ...t, elapsedMs: Date.now() - t.start, width: 10 })} `,
      );
    }
    return bars +
      this.#style.bold(u ? (this.#open ? `${u} → ${this.#open}> ` : `${u}> `) : "fastchat> ");
  }

  async #nextLine(): Promise<string | null> {
    const input = this.#o.input;
    if (input.kind === "tty") {
      input.editor.setPrompt(this.#prompt());
      return await input.editor.readLine();
    }
    this.#lines ??= (async function* (src) {
      for await (const l of src) yield l;
    })(input.lines);
    const r = await this.#lines.next();
    return r.done ? null : r.value;
  }

  async #password(user: string): Promise<string> {
    const input = this.#o.input;
    const pw = input.kind === "tty"
      ? await input.editor.readSecret(`password for ${user}: `)
      : await this.#nextLine();
    if (pw === null || pw === "") {
      throw new FastChatError("BAD_REQUEST", "a password is required");
    }
    return pw;
  }

  /** Runs until /quit or end of input; returns the process exit code. */
  async run(): Promise<number> {
    if (!this.#o.json && this.#o.input.kind === "tty") {
      this.#out(this.#style.gray("FastChat — type /help for commands."));
    }
    while (true) {
      const line = await this.#nextLine();
      if (line === null) break;
      let cmd: Command;
      try {
        cmd = parseCommand(line, this.#open);
        if (cmd.cmd === "quit") break;
        await this.#execute(cmd);
      } catch (e) {
        this.#reportError(e);
      }
    }
    await this.#shutdown();
    return 0;
  }

  async #shutdown(): Promise<void> {
    if (this.#uploads.size > 0) {
      this.#event({
        event: "info",
        message: `finishing ${this.#uploads.size} upload(s) before quitting…`,
      });
      await Promise.all(this.#uploads);
    }
    const downloading = this.#client.downloading;
    if (downloading > 0 && this.#o.input.kind === "script") {
      // A script's files already arriving are finished rather than cut.
      this.#event({
        event: "info",
        message: `finishing ${downloading} download(s) before quitting…`,
      });
      await this.#client.downloadsSettled();
    } else if (downloading > 0) {
      // A person quitting leaves now; the stored chunks are still on the server.
      this.#event({
        event: "info",
        message: `${downloading} download(s) stopped; they resume at your next login`,
      });
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const pending = this.#client.unconfirmed;
    const timedOut = await Promise.race([
      this.#client.idle().then(() => false),
      new Promise<boolean>((r) =>
        timer = setTimeout(() => r(true), this.#o.quitTimeoutMs ?? 10_000)
      ),
    ]);
    clearTimeout(timer);
    for (const id of [...this.#unshownSent.keys()]) this.#showSent(id);
    if (timedOut) {
      this.#event({
        event: "error",
        code: "TIMEOUT",
        message:
          `${this.#client.unconfirmed} of ${pending} messages not confirmed by the server; they were not stored`,
      });
    }
    await this.#client.close();
    if (this.#o.input.kind === "tty") this.#o.input.editor.close();
  }

  async #execute(c: Command): Promise<void> {
    const client = this.#client;
    switch (c.cmd) {
      case "none":
        return;
      case "help":
        this.#out(HELP_TEXT);
        return;
      case "register":
      case "login": {
        const password = c.password ?? await this.#password(c.user);
        if (c.cmd === "register") await client.register(c.user, password);
        else await client.login(c.user, password);
        return;
      }
      case "logout": {
        const user = client.user;
        await client.logout();
        this.#open = null;
        this.#event({ event: "logged_out", user: user ?? "" });
        return;
      }
      case "msg":
        this.#sending(await client.send(c.to, c.text), c.to);
        return;
      case "open":
        if (!client.user) throw new FastChatError("NOT_AUTHENTICATED", "log in first");
        this.#open = c.user;
        this.#event({ event: "info", message: `talking to ${c.user}; /close to stop` });
        return;
      case "close":
        this.#open = null;
        return;
      case "history": {
        const recs = await client.history(c.user, c.n);
        this.#event({
          event: "history",
          peer: c.user,
          messages: recs.map((r) => ({
            id: r.id,
            from: r.from,
            to: r.to,
            text: r.text,
            sent_at: r.sentAt,
          })),
        });
        return;
      }
      case "verify": {
        const change = await client.pendingSafetyNumbers(c.user);
        if (change) {
          this.#event({
            event: "verify",
            user: client.user!,
            peer: c.user,
            safety_number: change.pinned,
            new_safety_number: change.pending,
          });
          return;
        }
        const number = await client.verify(c.user);
        this.#event({ event: "verify", user: client.user!, peer: c.user, safety_number: number });
        return;
      }
      case "trust":
        client.trust(c.user);
        return;
      case "group":
        if (c.op === "create") await client.group("create", c.group, c.users);
        else if (c.op === "list") await client.group("list");
        else if ("user" in c) await client.group(c.op, c.group, c.user);
        else await client.group(c.op, c.group);
        return;
      case "send": {
        const sent = client.sendFile(c.to, c.path).then((id) => this.#sending(id, c.to));
        if (this.#o.input.kind !== "tty") return await sent; // scripts: in order
        // Interactive: the prompt comes back at once, with the upload's bar in front.
        const upload: Promise<void> = sent.catch((e) => this.#reportError(e))
          .finally(() => this.#uploads.delete(upload));
        this.#uploads.add(upload);
        return;
      }
      case "whoami":
        this.#event({ event: "whoami", ...client.whoami() });
        return;
      case "quit":
        return;
    }
  }
}
