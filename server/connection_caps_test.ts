/**
 * Caps on unauthenticated connections over real TCP: past the cap per
 * address (or in total) a new connection gets one `RATE_LIMITED` error and
 * is closed at once, without its input being read; a closed one frees its
 * place; a logged-in connection does not count, and counts again after
 * logout.
 */
import { expect } from "expect";
import type { ChatServer, ChatServerOptions } from "./chat_server.ts";
import {
  DB_KINDS,
  expectAdmitted,
  expectRefused,
  openTestDb,
  type RawPeer,
  registerRaw,
  type TestDb,
  withChatServer,
} from "@fastchat/testing";

/** A chat server whose address limiter never gets in the way of these tests. */
const withServer = (
  db: TestDb,
  extra: Partial<ChatServerOptions>,
  fn: (s: ChatServer) => Promise<void>,
) => withChatServer(db, { anonRate: 1000, ...extra }, fn);

/** Closes `p` and waits until the server has let go of that anonymous connection. */
async function closeAnon(server: ChatServer, p: RawPeer): Promise<void> {
  const gone = server.sessionClosed((user) => user === "");
  p.close();
  await gone;
}

for (const kind of DB_KINDS) {
  Deno.test({
    name: `connection caps (${kind}): unauthenticated connections are capped per address`,
    async fn(t) {
      const db = await openTestDb(kind);
      try {
        await withServer(db, {
          host: "::", // dual stack: ::1 and 127.0.0.1 are two different addresses
          limits: { maxPreAuthPerAddress: 3, maxPreAuthConnections: 100 },
        }, async (server) => {
          const { port } = server;
          await t.step("N+1 raw sockets from one address: the extra one is refused", async () => {
            const peers: RawPeer[] = [];
            for (let i = 0; i < 3; i++) peers.push(await expectAdmitted("::1", port));
            await expectRefused("::1", port);
            // Another address is not affected.
            const other = await expectAdmitted("127.0.0.1", port);
            await closeAnon(server, other);
            // After one closes, a new one is accepted (and the cap holds again).
            await closeAnon(server, peers.pop()!);
            peers.push(await expectAdmitted("::1", port));
            await expectRefused("::1", port);
            for (const p of peers.splice(0)) await closeAnon(server, p);
            // All places are free again.
            for (let i = 0; i < 3; i++) peers.push(await expectAdmitted("::1", port));
            for (const p of peers.splice(0)) await closeAnon(server, p);
          });
          await t.step("a logged-in connection is not counted; after logout it is", async () => {
            const user = await expectAdmitted("::1", port);
            await registerRaw(user, "carol");
            const anon = [await expectAdmitted("::1", port), await expectAdmitted("::1", port)];
            const third = await expectAdmitted("::1", port); // carol's session does not count
            await expectRefused("::1", port);
            await closeAnon(server, third);
            // Logout makes carol's connection anonymous again: it takes the free place.
            await user.send({ t: "logout", rid: 2 });
            expect(await user.waitFrame((f) => "rid" in f && f.rid === 2)).toMatchObject({
              t: "ok",
            });
            await expectRefused("::1", port);
            await closeAnon(server, user);
            for (const p of anon) await closeAnon(server, p);
          });
          await t.step("logout over the cap closes the connection with RATE_LIMITED", async () => {
            const user = await expectAdmitted("::1", port);
            await registerRaw(user, "dave");
            const anon: RawPeer[] = [];
            for (let i = 0; i < 3; i++) anon.push(await expectAdmitted("::1", port));
            await user.send({ t: "logout", rid: 2 });
            await user.closed;
            expect(user.frames.slice(-2)).toEqual([
              expect.objectContaining({ t: "ok", rid: 2 }),
              expect.objectContaining({ t: "error", code: "RATE_LIMITED" }),
            ]);
            for (const p of anon) await closeAnon(server, p);
          });
        });
      } finally {
        await db.close();
      }
    },
  });

  Deno.test({
    name: `connection caps (${kind}): unauthenticated connections are capped in total`,
    async fn() {
      const db = await openTestDb(kind);
      try {
        await withServer(db, {
          host: "::",
          limits: { maxPreAuthPerAddress: 100, maxPreAuthConnections: 2 },
        }, async (server) => {
          const { port } = server;
          const a = await expectAdmitted("::1", port);
          const b = await expectAdmitted("127.0.0.1", port);
          await expectRefused("::1", port);
          await expectRefused("127.0.0.1", port);
          const m = server.metrics().render();
          expect(m).toMatch(/fastchat_connections_refused_total\{[^}]*\} 2/);
          expect(m).toMatch(/fastchat_preauth_connections\{[^}]*\} 2/);
          await closeAnon(server, a);
          const c = await expectAdmitted("127.0.0.1", port);
          await closeAnon(server, b);
          await closeAnon(server, c);
        });
      } finally {
        await db.close();
      }
    },
  });
}
