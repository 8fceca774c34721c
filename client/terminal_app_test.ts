/**
 * The terminal client's screen as a user sees it: `TerminalApp` in
 * interactive mode (a real `LineEditor` fed keystrokes) and human script
 * mode, against a real chat server on loopback (PGlite).
 */
import { expect } from "expect";
import { EventLog, openTestDb, withChatServer } from "@fastchat/testing";
import { ChatClient, type ClientEvent } from "./chat_client.ts";
import { LineEditor } from "./line_editor.ts";
import { TerminalApp } from "./terminal_app.ts";

const KDF = 100_000;
const encoder = new TextEncoder();

/** What the app wrote, with a wait for a line (or write) matching a pattern. */
class Screen {
  readonly writes: string[] = [];
  #wake: (() => void) | null = null;

  write = (s: string): void => {
    this.writes.push(s);
    this.#wake?.();
  };

  /** Index of the first write matching `re`, waiting for it. */
  async waitFor(re: RegExp, done: Promise<unknown>): Promise<number> {
    let ended = false;
    done.finally(() => {
      ended = true;
      this.#wake?.();
    });
    while (true) {
      const i = this.writes.findIndex((w) => re.test(w));
      if (i >= 0) return i;
      if (ended) throw new Error(`no output matched ${re}:\n${this.writes.join("")}`);
      await new Promise<void>((r) => this.#wake = r);
    }
  }
}

/** Client options against a fresh chat server (PGlite) and a throwaway home root. */
interface AppEnv {
  server: { host: string; port: number };
  homeRoot: string;
  kdfIterations: number;
}

/** Runs `fn` with a chat server on a new PGlite database and a temporary home root. */
async function withAppEnv(prefix: string, fn: (opts: AppEnv) => Promise<void>): Promise<void> {
  const db = await openTestDb("pglite");
  const root = await Deno.makeTempDir({ prefix });
  try {
    await withChatServer(db, {}, (server) =>
      fn({
        server: { host: "127.0.0.1", port: server.port },
        homeRoot: root,
        kdfIterations: KDF,
      }));
  } finally {
    await db.close();
    await Deno.remove(root, { recursive: true });
  }
}

/** Keystrokes typed into the editor as the test goes. */
function keyboard() {
  let push!: (s: string) => void;
  let end!: () => void;
  const input = new ReadableStream<Uint8Array>({
    start(c) {
      push = (s) => c.enqueue(encoder.encode(s));
      end = () => c.close();
    },
  });
  return { input, type: (s: string) => push(s), end: () => end() };
}

Deno.test("interactive /send gives the prompt back at once, with the upload's bar in front", async () => {
  const db = await openTestDb("pglite");
  const root = await Deno.makeTempDir({ prefix: "fastchat-tty-" });
  try {
    await withChatServer(db, {}, async (server) => {
      const bobLog = new EventLog<ClientEvent>();
      const bob = new ChatClient({
        server: { host: "127.0.0.1", port: server.port },
        homeRoot: root,
        kdfIterations: KDF,
        onEvent: bobLog.push,
      });
      await bob.register("bob", "bob-password-1");
      // 6 MiB: 24 chunks, so the upload outlasts several progress events.
      const path = `${root}/big.bin`;
      const block = crypto.getRandomValues(new Uint8Array(65536));
      const data = new Uint8Array(6 * 1024 * 1024);
      for (let o = 0; o < data.length; o += block.length) data.set(block, o);
      await Deno.writeFile(path, data);

      const keys = keyboard();
      const screen = new Screen();
      const editor = new LineEditor({ input: keys.input, write: screen.write });
      const app = new TerminalApp({
        server: { host: "127.0.0.1", port: server.port },
        homeRoot: root,
        kdfIterations: KDF,
        json: false,
        input: { kind: "tty", editor },
        print: () => {},
      });
      const run = app.run();
      keys.type("/register alice alice-password-1\r");
      await screen.waitFor(/logged in as alice/, run);
      keys.type(`/send bob ${path}\r`);
      // The bar is drawn in front of an active prompt: before the fix the
      // command loop awaited the whole upload and no bar ever appeared.
      const uploaded = await screen.waitFor(/uploaded big\.bin/, run);
      const bar = screen.writes.findIndex((w) => /↑▕/.test(w));
      expect(bar).toBeGreaterThanOrEqual(0);
      expect(bar).toBeLessThan(uploaded);
      const file = await bobLog.waitFor((e) => e.event === "file");
      expect(file).toMatchObject({ from: "alice", name: "big.bin", bytes: data.length });
      keys.type("/quit\r");
      expect(await run).toBe(0);
      await bob.close();
    });
  } finally {
    await db.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a message nobody receives at once shows ✓ sent; one received shows ✓✓ delivered", async () => {
  await withAppEnv("fastchat-sent-", async (opts) => {
    const carol = new ChatClient({ ...opts, onEvent: () => {} });
    await carol.register("carol", "carol-password-1");
    await carol.close(); // carol is offline from now on
    const bobLog = new EventLog<ClientEvent>();
    const bob = new ChatClient({ ...opts, onEvent: bobLog.push });
    await bob.register("bob", "bob-password-1");

    const screen = new Screen();
    const lines = () => screen.writes;
    let run: Promise<number> = new Promise(() => {});
    const script = async function* () {
      yield "/register alice alice-password-1";
      yield "/msg carol are you there";
      yield "/group create team bob";
      yield "/msg #team hello team";
      yield "/msg bob hi bob";
      // Stay until bob's receipt is on the screen (end of input quits;
      // receipts still waiting to be shown are shown then).
      await screen.waitFor(/^✓✓ delivered to bob/, run);
    };
    const app = new TerminalApp({
      ...opts,
      json: false,
      input: { kind: "script", lines: script() },
      print: screen.write,
    });
    run = app.run();
    expect(await run).toBe(0);
    await bobLog.waitFor((e) => e.event === "message" && e.text === "hi bob");
    const receipts = lines().filter((l) => l.startsWith("✓"));
    expect(receipts).toContainEqual(expect.stringMatching(/^✓ sent to carol \(/));
    expect(receipts).toContainEqual(expect.stringMatching(/^✓ sent to #team \(/));
    expect(receipts).toContainEqual(expect.stringMatching(/^✓✓ delivered to bob \(/));
    await bob.close();
  });
});

Deno.test("/quit in script mode finishes a download under way: the file event comes, the file is whole", async () => {
  await withAppEnv("fastchat-quit-dl-", async (opts) => {
    const root = opts.homeRoot;
    const alice = new ChatClient({ ...opts, onEvent: () => {} });
    await alice.register("alice", "alice-password-1");
    // 8 MiB: 32 chunks, several fetch windows, so /quit lands mid-download.
    const path = `${root}/big.bin`;
    const data = new Uint8Array(8 * 1024 * 1024);
    for (let o = 0; o < data.length; o += 65536) {
      data.set(crypto.getRandomValues(new Uint8Array(65536)), o);
    }
    await Deno.writeFile(path, data);

    const screen = new Screen();
    let run: Promise<number> = new Promise(() => {});
    const script = async function* () {
      yield "/register bob bob-password-1";
      await screen.waitFor(/"event":"ready"/, run);
      await alice.sendFile("bob", path);
      // The download has begun: its first progress event is on screen.
      await screen.waitFor(/"event":"progress".*"direction":"down"/, run);
      yield "/quit";
    };
    const app = new TerminalApp({
      ...opts,
      json: true,
      input: { kind: "script", lines: script() },
      print: screen.write,
    });
    run = app.run();
    expect(await run).toBe(0);
    const events = screen.writes.flatMap((w) => w.split("\n")).filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
    const file = events.find((e) => e.event === "file");
    expect(file).toMatchObject({ from: "alice", name: "big.bin", bytes: data.length });
    const hex = (b: ArrayBuffer) =>
      [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
    expect(file.sha256).toBe(hex(await crypto.subtle.digest("SHA-256", data)));
    expect(await Deno.readFile(file.path)).toEqual(data);
    await alice.close();
  });
});
