/**
 * A key-substituting server, end to end: a real TCP man-in-the-middle proxy
 * between alice's client and a real chat server process rewrites the `keys`
 * reply for bob to an attacker's real identity. Alice's client must block
 * bob (KEY_CHANGED), never encrypt to the attacker's key, and resume only
 * after `/trust`.
 */
import { expect } from "expect";
import { ChatClient, type ClientEvent } from "@fastchat/client";
import { exportPublicKeys, generateIdentity, type PublicKeys } from "@fastchat/lib/crypto";
import { encodeFrame, FrameDecoder } from "@fastchat/lib/frame";
import { decodeClientFrame, decodeServerFrame, encodePayload } from "@fastchat/lib/protocol";
import { EventLog, openTestDb, startServerProcess } from "@fastchat/testing";

const KDF = 100_000;

/** Forwards TCP to `target`; while `substitute` is set, `keys` replies for `victimOf` carry it. */
class KeySubstitutingProxy {
  substitute: PublicKeys | null = null;
  substituted = 0;
  readonly #listener: Deno.TcpListener;
  readonly #conns = new Set<Deno.TcpConn>();
  readonly #pumps: Promise<void>[] = [];
  readonly #accepting: Promise<void>;

  constructor(readonly target: { host: string; port: number }, readonly victimOf: string) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  async #accept(): Promise<void> {
    for await (const down of this.#listener) {
      const up = await Deno.connect({ hostname: this.target.host, port: this.target.port });
      this.#conns.add(down).add(up);
      const rids = new Set<number>();
      const dec = new FrameDecoder(64 * 1024 * 1024);
      this.#pumps.push(this.#pipe(down, up, (f) => {
        for (const p of dec.push(f)) {
          const c = decodeClientFrame(p) as { t: string; rid?: number; user?: string };
          if (c.t === "keys" && c.user === this.victimOf) rids.add(c.rid!);
        }
        return f;
      }));
      const dec2 = new FrameDecoder(64 * 1024 * 1024);
      this.#pumps.push(this.#pipe(up, down, (chunk) => {
        const out: Uint8Array[] = [];
        for (const p of dec2.push(chunk)) {
          const s = decodeServerFrame(p) as { t: string; rid?: number; keys?: PublicKeys };
          if (s.t === "ok" && s.rid !== undefined && rids.has(s.rid) && this.substitute) {
            this.substituted++;
            out.push(encodeFrame(encodePayload({ ...s, keys: this.substitute } as never)));
          } else out.push(encodeFrame(p));
        }
        const all = new Uint8Array(out.reduce((n, b) => n + b.length, 0));
        let o = 0;
        for (const b of out) all.set(b, o), o += b.length;
        return all;
      }));
    }
  }

  async #pipe(from: Deno.TcpConn, to: Deno.TcpConn, map: (b: Uint8Array) => Uint8Array) {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        const out = map(buf.slice(0, n));
        for (let o = 0; o < out.length;) o += await to.write(out.subarray(o));
      }
    } catch (e) {
      if (
        !(e instanceof Deno.errors.BadResource || e instanceof Deno.errors.ConnectionReset ||
          e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.Interrupted)
      ) {
        throw e;
      }
    }
    for (const c of [from, to]) {
      if (this.#conns.delete(c)) c.close();
    }
  }

  async close(): Promise<void> {
    this.#listener.close();
    await this.#accepting.catch(() => {});
    for (const c of this.#conns) c.close();
    this.#conns.clear();
    await Promise.allSettled(this.#pumps);
  }
}

Deno.test({
  name: "key change e2e: a substituted key blocks bob until /trust; the attacker's key is unused",
  async fn() {
    const db = await openTestDb("pglite");
    const server = await startServerProcess(db.url);
    const proxy = new KeySubstitutingProxy(server, "bob");
    const attacker = await generateIdentity();
    const attackerKeys = await exportPublicKeys(attacker);
    const homes = [await Deno.makeTempDir(), await Deno.makeTempDir()];
    const logA = new EventLog<ClientEvent>();
    const logB = new EventLog<ClientEvent>();
    const alice = new ChatClient({
      server: { host: "127.0.0.1", port: proxy.port },
      homeRoot: homes[0],
      kdfIterations: KDF,
      onEvent: logA.push,
    });
    const bob = new ChatClient({
      server,
      homeRoot: homes[1],
      kdfIterations: KDF,
      onEvent: logB.push,
    });
    try {
      await alice.register("alice", "alice-password-1");
      await bob.register("bob", "bob-password-1");
      await alice.send("bob", "first"); // pins bob's real key
      await logB.waitFor((e) => e.event === "message" && e.text === "first");

      proxy.substitute = attackerKeys;
      // Use up the current session key so the next send re-fetches bob's keys.
      let err: unknown = null;
      for (let i = 0; i < 1000 && !err; i++) {
        await alice.send("bob", `m${i}`).catch((e) => (err = e));
      }
      expect(err).toMatchObject({ code: "KEY_CHANGED" });
      expect(proxy.substituted).toBe(1);
      await logA.waitFor((e) => e.event === "key_changed" && e.user === "bob");
      await expect(alice.send("bob", "secret")).rejects.toMatchObject({ code: "KEY_CHANGED" });
      const change = await alice.pendingSafetyNumbers("bob");
      expect(change).not.toBeNull();
      expect(change!.pinned).toBe(await alice.verify("bob").catch(() => change!.pinned));
      expect(change!.pending).not.toBe(change!.pinned);

      // Bob's messages (signed with his real, pinned key) are held, not lost.
      await bob.send("alice", "held while blocked");
      await logA.waitFor((e) =>
        e.event === "error" && e.code === "KEY_CHANGED" && e.from === "bob"
      );
      expect(() => alice.trust("carol")).toThrow();
      alice.trust("bob"); // the user "verified" and accepted the attacker's key
      await logA.waitFor((e) => e.event === "trusted" && e.user === "bob");
      expect(await alice.pendingSafetyNumbers("bob")).toBeNull();
      // The held message is processed now: bob signed it with his real key,
      // which is no longer the pinned one, so it fails and is never shown.
      await logA.waitFor((e) =>
        e.event === "error" && e.code === "BAD_SIGNATURE" && e.from === "bob"
      );
      expect(logA.events.some((e) => e.event === "message" && e.from === "bob")).toBe(false);
      // Sending works again (to the key the user chose to trust).
      expect(typeof await alice.send("bob", "after trust")).toBe("string");
    } finally {
      await alice.close();
      await bob.close();
      await proxy.close();
      await server.proc.stop();
      await db.close();
      for (const h of homes) await Deno.remove(h, { recursive: true });
    }
  },
});
