/**
 * A dropped connection is never an error to the user: requests and sends in
 * flight wait for the reconnect and go out then. A real server process sits
 * behind a loopback TCP relay that the test cuts.
 */
import { expect } from "expect";
import { ChatClient, type ClientEvent } from "./chat_client.ts";
import { DB_KINDS, EventLog, openTestDb, startServerProcess } from "@fastchat/testing";

/** Forwards loopback TCP to `target`; `cut()` drops every open pair at once. */
class Relay {
  readonly #listener: Deno.TcpListener;
  readonly #pairs = new Set<[Deno.Conn, Deno.Conn]>();
  readonly #pumps = new Set<Promise<void>>();
  readonly #accepting: Promise<void>;
  accepted = 0;

  constructor(readonly target: { host: string; port: number }) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  get port(): number {
    return this.#listener.addr.port;
  }

  async #accept(): Promise<void> {
    for await (const a of this.#listener) {
      this.accepted++;
      const b = await Deno.connect({ hostname: this.target.host, port: this.target.port });
      const pair: [Deno.Conn, Deno.Conn] = [a, b];
      this.#pairs.add(pair);
      const pump = Promise.all([pipe(a, b), pipe(b, a)]).then(() => {
        this.#pairs.delete(pair);
        closeQuietly(a);
        closeQuietly(b);
      });
      this.#pumps.add(pump);
      pump.finally(() => this.#pumps.delete(pump));
    }
  }

  /** Drops every relayed connection (both sides), as a dying server would. */
  cut(): void {
    for (const [a, b] of this.#pairs) {
      closeQuietly(a);
      closeQuietly(b);
    }
  }

  async close(): Promise<void> {
    this.#listener.close();
    this.cut();
    await this.#accepting;
    await Promise.all([...this.#pumps]);
  }
}

async function pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await to.write(buf.subarray(off, n));
    }
  } catch (e) {
    // The other direction (or cut()) closed the socket: the pair ends.
    if (!(e instanceof Deno.errors.BadResource) && !(e instanceof Deno.errors.ConnectionReset)) {
      if (!(e instanceof Deno.errors.BrokenPipe) && !(e instanceof Deno.errors.Interrupted)) {
        throw e;
      }
    }
  }
  closeQuietly(to);
}

function closeQuietly(c: Deno.Conn): void {
  try {
    c.close();
  } catch (e) {
    if (!(e instanceof Deno.errors.BadResource)) throw e;
  }
}

const KDF = 100_000;
const isError = (e: ClientEvent) =>
  e.event === "error" || (e.event !== "disconnected" && "code" in e && !!e.code);

for (const kind of DB_KINDS) {
  Deno.test({
    name: `failover (${kind}): requests and sends in flight across a drop complete once`,
    async fn() {
      const db = await openTestDb(kind);
      const server = await startServerProcess(db.url);
      const relay = new Relay({ host: server.host, port: server.port });
      const homes = [await Deno.makeTempDir(), await Deno.makeTempDir(), await Deno.makeTempDir()];
      const logA = new EventLog<ClientEvent>();
      const logB = new EventLog<ClientEvent>();
      const logC = new EventLog<ClientEvent>();
      const via = { host: "127.0.0.1", port: relay.port };
      const direct = { host: server.host, port: server.port };
      const alice = new ChatClient({
        server: via,
        homeRoot: homes[0],
        kdfIterations: KDF,
        onEvent: logA.push,
      });
      const bob = new ChatClient({
        server: direct,
        homeRoot: homes[1],
        kdfIterations: KDF,
        onEvent: logB.push,
      });
      const carol = new ChatClient({
        server: direct,
        homeRoot: homes[2],
        kdfIterations: KDF,
        onEvent: logC.push,
      });
      try {
        await alice.register("alice", "alice-password-1");
        await bob.register("bob", "bob-password-1");
        await carol.register("carol", "carol-password-1");

        // A keys request in flight when the connection drops completes after the reconnect.
        const verifying = alice.verify("bob");
        relay.cut();
        const number = await verifying;
        expect(number).toEqual(await bob.verify("alice"));
        await logA.waitFor((e) => e.event === "reconnected");

        // A send whose key fetch is in flight during a drop goes out once after it.
        const sending = alice.send("carol", "across the drop");
        relay.cut();
        const id = await sending;
        const got = await logC.waitFor((e) =>
          e.event === "message" && e.text === "across the drop"
        );
        expect(got).toMatchObject({ id, from: "alice" });
        await logA.waitFor((e) => e.event === "delivered" && e.id === id);
        await alice.idle();
        expect(logC.events.filter((e) => e.event === "message" && e.id === id)).toHaveLength(1);
        expect(logA.events.filter(isError)).toEqual([]);
        expect(relay.accepted).toBeGreaterThanOrEqual(3);
      } finally {
        await alice.close();
        await bob.close();
        await carol.close();
        await relay.close();
        await server.proc.stop();
        await db.close();
        for (const h of homes) await Deno.remove(h, { recursive: true });
      }
    },
  });
}
