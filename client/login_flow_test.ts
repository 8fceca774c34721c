/**
 * Registration and login against a real chat server on loopback (PGlite),
 * through a real SessionConnector.
 */
import { expect } from "expect";
import { FastChatError } from "@fastchat/lib/errors";
import { openTestDb, withChatServer } from "@fastchat/testing";
import type { ClientEvent } from "./events.ts";
import { checkKdf, checkUsername, LoginFlow, MIN_KDF_ITERATIONS } from "./login_flow.ts";
import { SessionConnector } from "./session_connector.ts";
import { UserHome } from "./user_home.ts";

/** Login flows on their own connections to `port`; `end()` closes them all. */
function flows(port: number) {
  const links: SessionConnector[] = [];
  const events: ClientEvent[] = [];
  return {
    events,
    flow(homeRoot: string): LoginFlow {
      const link = new SessionConnector({
        server: { host: "127.0.0.1", port },
        reconnect: false,
        onPush: () => {},
        session: () => null,
        onDisconnected: () => {},
        onResumed: () => {},
        onExpired: () => {},
      });
      links.push(link);
      return new LoginFlow({
        link,
        homeRoot,
        kdfIterations: MIN_KDF_ITERATIONS,
        emit: (e) => events.push(e),
      });
    },
    async end(): Promise<void> {
      for (const l of links) await l.end();
    },
  };
}

/** Runs `fn` with a chat server on a fresh PGlite database and `n` empty home roots. */
async function withServer(
  n: number,
  fn: (f: ReturnType<typeof flows>, homes: string[]) => Promise<void>,
): Promise<void> {
  const db = await openTestDb("pglite");
  const homes = await Promise.all(Array.from({ length: n }, () => Deno.makeTempDir()));
  try {
    await withChatServer(db, {}, async (server) => {
      const f = flows(server.port);
      try {
        await fn(f, homes);
      } finally {
        await f.end();
      }
    });
  } finally {
    await db.close();
    for (const h of homes) await Deno.remove(h, { recursive: true });
  }
}

Deno.test("LoginFlow: register, then log in from the same home and from a fresh one", async () => {
  await withServer(2, async (f, [mine, fresh]) => {
    const reg = await f.flow(mine).register("alice", "alice-password-1");
    expect(reg).toMatchObject({ user: "alice", state: null });
    const home = UserHome.at(mine, "alice");
    expect(await home.readKdf()).toMatchObject({ iter: MIN_KDF_ITERATIONS });
    await home.writeState(reg.vaultKey, { saved: true });

    // The same home: the local identity opens, the saved state comes back.
    const again = await f.flow(mine).login("alice", "alice-password-1");
    expect(again.publicKeys).toEqual(reg.publicKeys);
    expect(again.state).toEqual({ saved: true });
    expect(again.token).not.toBe(reg.token);

    // A fresh home: the keys come from the server's sealed backup and are kept there.
    const restored = await f.flow(fresh).login("alice", "alice-password-1");
    expect(restored.publicKeys).toEqual(reg.publicKeys);
    expect(restored.state).toBeNull();
    expect(await UserHome.at(fresh, "alice").readIdentity()).not.toBeNull();
    expect(await UserHome.at(fresh, "alice").readKdf()).toEqual(await home.readKdf());
    expect(f.events).toEqual([]);

    // A wrong password fails at the server; nothing is derived from it locally.
    await expect(f.flow(fresh).login("alice", "not-the-password")).rejects
      .toBeInstanceOf(FastChatError);
  });
});

Deno.test("LoginFlow: a local identity that does not open is replaced; unreadable state is reported", async () => {
  await withServer(2, async (f, [aliceRoot, otherRoot]) => {
    const alice = await f.flow(aliceRoot).register("alice", "alice-password-1");
    // Another account's identity and state, sealed under another password,
    // end up in alice's home (say, a home copied from elsewhere).
    const bob = await f.flow(otherRoot).register("bob", "bob-password-1");
    const bobHome = UserHome.at(otherRoot, "bob");
    await bobHome.writeState(bob.vaultKey, { bob: true });
    const aliceHome = UserHome.at(aliceRoot, "alice");
    await aliceHome.writeIdentity((await bobHome.readIdentity())!);
    await Deno.copyFile(`${bobHome.dir}/state.sealed`, `${aliceHome.dir}/state.sealed`);

    const s = await f.flow(aliceRoot).login("alice", "alice-password-1");
    expect(s.publicKeys).toEqual(alice.publicKeys); // the server's backup won
    expect(s.state).toBeNull();
    expect(f.events).toEqual([
      expect.objectContaining({
        event: "error",
        message: expect.stringContaining("local key state unreadable"),
      }),
    ]);
    // The identity file is alice's again: the next login opens it locally.
    f.events.length = 0;
    expect((await f.flow(aliceRoot).login("alice", "alice-password-1")).publicKeys)
      .toEqual(alice.publicKeys);
  });
});

Deno.test("checkKdf: the protocol's floor, and the settings this home remembers", () => {
  const salt = new Uint8Array(16).fill(1);
  const code = (fn: () => void) => {
    try {
      fn();
      return "ok";
    } catch (e) {
      return FastChatError.from(e).code;
    }
  };
  expect(code(() => checkKdf({ salt, iter: MIN_KDF_ITERATIONS }, null))).toBe("ok");
  expect(code(() => checkKdf({ salt, iter: MIN_KDF_ITERATIONS - 1 }, null))).toBe("KDF_DOWNGRADE");
  expect(code(() => checkKdf(undefined, null))).toBe("KDF_DOWNGRADE");
  const remembered = { salt, iter: 600_000 };
  expect(code(() => checkKdf({ salt, iter: 600_000 }, remembered))).toBe("ok");
  expect(code(() => checkKdf({ salt, iter: 700_000 }, remembered))).toBe("ok");
  expect(code(() => checkKdf({ salt, iter: 599_999 }, remembered))).toBe("KDF_DOWNGRADE");
  expect(code(() => checkKdf({ salt: new Uint8Array(16), iter: 600_000 }, remembered)))
    .toBe("KDF_DOWNGRADE");
});

Deno.test("checkUsername: 1-32 of a-z 0-9 _ . -", () => {
  checkUsername("alice.b-c_9");
  for (const bad of ["", "Alice", "a b", "x".repeat(33), "ü"]) {
    expect(() => checkUsername(bad)).toThrow(expect.objectContaining({ code: "INVALID_USERNAME" }));
  }
});
