/**
 * A client process killed with SIGKILL after a message was queued but before
 * the server confirmed it: the next `deno task client` login of that user
 * resends it from the outbox on disk, and the recipient gets it exactly once.
 * (Before, the outbox lived in memory only: history showed a message that was
 * never delivered.)
 */
import { expect } from "expect";
import { fileURLToPath } from "node:url";
import { connectStore } from "@fastchat/db/connect";
import { ChatServer } from "@fastchat/server/chat_server";
import { EventLog, openTestDb } from "@fastchat/testing";
import { ChatClient } from "./chat_client.ts";
import type { ClientEvent } from "./events.ts";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

/** `deno task client -- --json` as a real process, driven through stdin. */
class ClientProcess {
  readonly log = new EventLog<ClientEvent>();
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly done: Promise<void>;

  constructor(server: string, home: string) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "--server", server, "--home", home, "--json"],
      env: { NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    const stdout = this.#child.stdout;
    this.done = (async () => {
      let partial = "";
      for await (const text of stdout.pipeThrough(new TextDecoderStream())) {
        const lines = (partial + text).split("\n");
        partial = lines.pop()!;
        for (const l of lines) if (l.startsWith("{")) this.log.push(JSON.parse(l));
      }
    })();
  }

  async type(line: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(line + "\n"));
  }

  async kill(): Promise<void> {
    this.#child.kill("SIGKILL");
    await this.#child.status;
    await this.done;
    await this.#stdin.close().catch(() => {}); // the pipe died with the process
  }
}

Deno.test({
  name: "outbox: a message queued before a client crash is sent at its next login, once",
  async fn() {
    const db = await openTestDb("pglite");
    const sql = connectStore(db.url, { max: 2 });
    const home = await Deno.makeTempDir({ prefix: "fastchat-outbox-" });
    const start = () => ChatServer.start({ sql, port: 0, scrypt: { N: 1024, r: 8, p: 1 } });
    let server = await start();
    let bob: ChatClient | undefined;
    try {
      const bobLog = new EventLog<ClientEvent>();
      const bobClient = () =>
        new ChatClient({
          server: { host: server.host, port: server.port },
          homeRoot: home,
          kdfIterations: 100_000,
          onEvent: bobLog.push,
        });
      bob = bobClient();
      await bob.register("bob", "bob-password-1");
      await bob.close();

      const alice = new ClientProcess(`${server.host}:${server.port}`, home);
      await alice.type("/register alice alice-password-1");
      await alice.log.waitFor((e) => e.event === "ready", 30_000);
      await alice.type("/msg bob first, while the server is up");
      await alice.log.waitFor((e) => e.event === "sent", 30_000);

      // The server goes away: the next message cannot be confirmed.
      await server.close();
      await alice.log.waitFor((e) => e.event === "disconnected", 30_000);
      const outbox = `${home}/alice/outbox.log`;
      const sizeBefore = (await Deno.stat(outbox)).size;
      const watcher = Deno.watchFs(`${home}/alice`);
      await alice.type("/msg bob queued before the crash");
      for await (const ev of watcher) {
        if (
          ev.paths.some((p) => p.endsWith("outbox.log")) &&
          (await Deno.stat(outbox)).size > sizeBefore
        ) break;
      }
      watcher.close();
      await alice.kill(); // SIGKILL: no chance to save anything more
      expect(alice.log.events.filter((e) => e.event === "sent").length).toBe(1);

      server = await start();
      const again = new ClientProcess(`${server.host}:${server.port}`, home);
      try {
        await again.type("/login alice alice-password-1");
        await again.log.waitFor((e) => e.event === "ready", 30_000);
        await again.log.waitFor((e) => e.event === "sent", 30_000); // the resent one
      } finally {
        await again.kill();
      }

      bob = bobClient();
      await bob.login("bob", "bob-password-1");
      const got = await bobLog.waitForCount(
        (e) => e.event === "message" && e.text === "queued before the crash",
        1,
        30_000,
      );
      expect(got.length).toBe(1);
      await bob.close();
      bob = undefined;
      // a later login resends nothing more: the recipient still has it once
      expect(bobLog.events.filter((e) => e.event === "message").length).toBe(2);
    } finally {
      await bob?.close();
      await server.close();
      await sql.end();
      await db.close();
      await Deno.remove(home, { recursive: true });
    }
  },
});
