/**
 * A server (or a man in the middle) offering weaker KDF settings at prelogin
 * than this home remembers is refused before the password is derived.
 */
import { expect } from "expect";
import { FramedConnection } from "@fastchat/lib/framed_conn";
import {
  type ClientFrame,
  decodeClientFrame,
  encodePayload,
  PROTOCOL_VERSION,
} from "@fastchat/lib/protocol";
import { ChatClient } from "./chat_client.ts";
import { UserHome } from "./user_home.ts";

/** A hostile server that answers prelogin with `kdf` and records every frame. */
function hostileServer(kdf: { salt: Uint8Array; iter: number }) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const seen: ClientFrame["t"][] = [];
  const conns: FramedConnection[] = [];
  const serving = (async () => {
    for await (const tcp of listener) {
      const fc: FramedConnection = new FramedConnection(tcp, {
        onFrame: (p) => {
          const f = decodeClientFrame(p);
          seen.push(f.t);
          if (f.t === "hello") {
            fc.sendPayload(
              encodePayload({ t: "welcome", v: PROTOCOL_VERSION, server: "evil", max: 65536 }),
            );
          } else if (f.t === "prelogin") {
            fc.sendPayload(encodePayload({ t: "ok", rid: f.rid, kdf }));
          }
        },
        onClose: () => {},
      });
      conns.push(fc);
      fc.start();
    }
  })();
  return {
    port: listener.addr.port,
    seen,
    async close() {
      listener.close();
      for (const c of conns) c.close();
      await serving;
    },
  };
}

const salt = new Uint8Array(16).fill(7);

for (
  const [name, offered] of [
    ["fewer iterations", { salt, iter: 100_000 }],
    ["another salt", { salt: new Uint8Array(16).fill(8), iter: 600_000 }],
  ] as const
) {
  Deno.test(`kdf: a prelogin with ${name} than remembered is refused (KDF_DOWNGRADE)`, async () => {
    const root = await Deno.makeTempDir();
    await UserHome.at(root, "alice").writeKdf({ salt, iter: 600_000 });
    const server = hostileServer(offered);
    const client = new ChatClient({
      server: { host: "127.0.0.1", port: server.port },
      homeRoot: root,
    });
    try {
      await expect(client.login("alice", "alice-password-1")).rejects.toMatchObject({
        code: "KDF_DOWNGRADE",
      });
      expect(server.seen).toEqual(["hello", "prelogin"]); // no login: nothing derived or sent
      expect((await Deno.stat(`${root}/alice/kdf.bin`)).mode! & 0o777).toBe(0o600);
    } finally {
      await client.close();
      await server.close();
      await Deno.remove(root, { recursive: true });
    }
  });
}
