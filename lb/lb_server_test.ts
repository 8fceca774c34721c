/**
 * The load balancer over real TCP and a real store: fake registry rows
 * stand in for chat servers, clients use `requestTicket` (or a raw peer for
 * bad input).
 */
import { expect } from "expect";
import { fileURLToPath } from "node:url";
import { requestTicket } from "@fastchat/client/lb_client";
import { encodeFrame } from "@fastchat/lib/frame";
import {
  DB_KINDS,
  insertServer,
  openTestDb,
  RawPeer,
  type TestDb,
  withLoadBalancer,
} from "@fastchat/testing";
import { loadLbKeys } from "./lb_key_store.ts";
import { TicketVerifier } from "@fastchat/lib/cluster/ticket_verifier";
import { TicketSigner } from "./ticket_signer.ts";
import { LIVENESS_MS } from "@fastchat/lib/cluster/timing";
import { waitUntil } from "@fastchat/lib/wait_until";

const TLS_DIR = fileURLToPath(new URL("../server/testdata/tls/", import.meta.url));

async function tally(lb: { host: string; port: number }, n: number) {
  const got: Record<string, number> = {};
  const tickets = [];
  for (let i = 0; i < n; i++) {
    const t = await requestTicket(lb);
    got[t.server] = (got[t.server] ?? 0) + 1;
    tickets.push(t);
  }
  return { got, tickets };
}

for (const kind of DB_KINDS) {
  Deno.test({
    name: `load balancer (${kind})`,
    async fn(t) {
      let db: TestDb | undefined;
      try {
        db = await openTestDb(kind);
        const url = db.url;

        await t.step(
          "round-robin: 30 tickets are 10/10/10 and verify for their server",
          () =>
            withLoadBalancer(url, { algorithm: "round-robin" }, async (lb, sql) => {
              await sql`delete from servers`;
              for (const [i, id] of ["fc-a", "fc-b", "fc-c"].entries()) {
                await insertServer(sql, { id, port: 7801 + i });
              }
              const { got, tickets } = await tally(lb, 30);
              expect(got).toEqual({ "fc-a": 10, "fc-b": 10, "fc-c": 10 });
              const keys = await loadLbKeys(sql);
              expect(keys.has(lb.keyId)).toBe(true);
              const verifier = new TicketVerifier(keys);
              for (const tk of tickets) {
                const claims = await verifier.verify(tk.ticket, { serverId: tk.server });
                expect(claims).toMatchObject({ serverId: tk.server, host: tk.host, port: tk.port });
                expect(tk.port).toBe(7801 + ["fc-a", "fc-b", "fc-c"].indexOf(tk.server));
              }
              expect(lb.ticketsIssued).toBe(30);
            }),
        );

        await t.step(
          "a client's `avoid` list steers it away from a server it just lost",
          () =>
            withLoadBalancer(url, { algorithm: "round-robin" }, async (lb, sql) => {
              await sql`delete from servers`;
              await insertServer(sql, { id: "fc-a", port: 7831 });
              await insertServer(sql, { id: "fc-b", port: 7832 });
              for (let i = 0; i < 6; i++) {
                expect((await requestTicket(lb, { avoid: ["fc-a"] })).server).toBe("fc-b");
              }
              // Avoiding every live server still yields a ticket.
              const t = await requestTicket(lb, { avoid: ["fc-a", "fc-b"] });
              expect(["fc-a", "fc-b"]).toContain(t.server);
            }),
        );

        await t.step(
          "stale and draining servers are never chosen",
          () =>
            withLoadBalancer(url, { algorithm: "round-robin" }, async (lb, sql) => {
              await sql`delete from servers`;
              await insertServer(sql, { id: "fc-live1", port: 7811 });
              await insertServer(sql, { id: "fc-stale", port: 7812, ageMs: 10_000 });
              await insertServer(sql, { id: "fc-drain", port: 7813, draining: true });
              await insertServer(sql, { id: "fc-live2", port: 7814 });
              expect((await tally(lb, 20)).got).toEqual({ "fc-live1": 10, "fc-live2": 10 });
            }),
        );

        await t.step(
          "least-connections sends a burst to the emptiest server first",
          () =>
            withLoadBalancer(url, { algorithm: "least-connections" }, async (lb, sql) => {
              await sql`delete from servers`;
              await insertServer(sql, { id: "fc-a", port: 7821, clients: 10 });
              await insertServer(sql, { id: "fc-b", port: 7822, clients: 0 });
              await insertServer(sql, { id: "fc-c", port: 7823, clients: 10 });
              expect((await tally(lb, 10)).got).toEqual({ "fc-b": 10 });
            }),
        );

        await t.step(
          "no live server: NO_SERVERS at once, not a hang",
          () =>
            withLoadBalancer(url, {}, async (lb, sql) => {
              await sql`delete from servers`;
              await insertServer(sql, { id: "fc-dead", port: 7831, ageMs: 10_000 });
              // A hang would end in the client's TIMEOUT, not NO_SERVERS.
              const err = await requestTicket(lb).catch((e) => e);
              expect(err).toMatchObject({ code: "NO_SERVERS" });
              expect(err.message).toMatch(/no chat server/);
              // A server appearing is noticed on the next request (empty cache re-reads).
              await insertServer(sql, { id: "fc-new", port: 7832 });
              expect((await requestTicket(lb)).server).toBe("fc-new");
            }),
        );

        await t.step(
          "welcome names the LB; garbage gets BAD_FRAME and a close",
          () =>
            withLoadBalancer(url, {}, async (lb) => {
              const p = await RawPeer.connect(lb.host, lb.port);
              await p.send({ t: "hello", v: 1 });
              expect(await p.waitFrame((f) => f.t === "welcome")).toMatchObject({
                server: `lb-${lb.port}`,
                max: 4096,
              });
              await p.write(encodeFrame(new Uint8Array([0xc1, 0xff, 0x00])));
              await p.closed;
              expect(p.frames.at(-1)).toMatchObject({ t: "error", code: "BAD_FRAME" });
            }),
        );

        await t.step(
          "bad requests: no hello, chat requests, big frames, silence",
          () =>
            withLoadBalancer(url, { limits: { handshakeTimeoutMs: 300 } }, async (lb) => {
              const noHello = await RawPeer.connect(lb.host, lb.port);
              await noHello.send({ t: "ticket", rid: 1 });
              await noHello.closed;
              expect(noHello.frames).toEqual([expect.objectContaining({
                t: "error",
                code: "HANDSHAKE_REQUIRED",
              })]);

              const chat = await RawPeer.connect(lb.host, lb.port);
              await chat.send({ t: "hello", v: 1 });
              await chat.send({ t: "prelogin", rid: 7, user: "alice" });
              await chat.closed;
              expect(chat.frames.at(-1)).toMatchObject({ t: "error", rid: 7, code: "BAD_REQUEST" });

              const oldVersion = await RawPeer.connect(lb.host, lb.port);
              await oldVersion.send({ t: "hello", v: 99 });
              await oldVersion.closed;
              expect(oldVersion.frames.at(-1)).toMatchObject({ code: "UNSUPPORTED_VERSION" });

              const big = await RawPeer.connect(lb.host, lb.port);
              await big.send({ t: "hello", v: 1 });
              await big.waitFrame((f) => f.t === "welcome");
              await big.write(encodeFrame(new Uint8Array(5000)));
              await big.closed; // over the 4 KiB limit: dropped

              const silent = await RawPeer.connect(lb.host, lb.port);
              await silent.closed;
              expect(silent.frames.at(-1)).toMatchObject({ t: "error", code: "TIMEOUT" });
              expect(lb.connections).toBe(0);
            }),
        );

        await t.step(
          "per-address rate limit answers RATE_LIMITED with a retry time",
          () =>
            withLoadBalancer(url, { rate: 1 }, async (lb, sql) => {
              await sql`delete from servers`;
              await insertServer(sql, { id: "fc-a", port: 7841 });
              for (let i = 0; i < 4; i++) await requestTicket(lb); // the burst (4 x rate)
              const err = await requestTicket(lb).catch((e) => e);
              expect(err).toMatchObject({ code: "RATE_LIMITED" });
              expect(err.details.retryMs).toBeGreaterThan(0);
            }),
        );

        await t.step("TLS: tickets over TLS with the test CA", async () => {
          const tls = {
            cert: await Deno.readTextFile(`${TLS_DIR}server.pem`),
            key: await Deno.readTextFile(`${TLS_DIR}server-key.pem`),
          };
          const caCerts = [await Deno.readTextFile(`${TLS_DIR}ca.pem`)];
          await withLoadBalancer(url, { tls }, async (lb, sql) => {
            await sql`delete from servers`;
            await insertServer(sql, { id: "fc-tls", port: 7851 });
            const tk = await requestTicket(lb, { tls: { caCerts } });
            expect(tk).toMatchObject({ server: "fc-tls", host: "127.0.0.1", port: 7851 });
            const plain = await requestTicket(lb, { timeoutMs: 1_000 }).catch((e) => e);
            expect(plain.code).toMatch(
              /^(CONNECT_FAILED|TIMEOUT|CONNECTION_CLOSED|BAD_FRAME|FRAME_TOO_LARGE)$/,
            );
          });
        });

        await t.step(
          "a ticket says whether the server's port speaks TLS",
          () =>
            withLoadBalancer(url, { algorithm: "round-robin" }, async (lb, sql) => {
              await sql`delete from servers`;
              await insertServer(sql, { id: "fc-plain", port: 7861 });
              await insertServer(sql, { id: "fc-tls", port: 7862, tls: true });
              const got = [await requestTicket(lb), await requestTicket(lb)]
                .map((tk) => [tk.server, tk.port, tk.tls]).sort();
              expect(got).toEqual([["fc-plain", 7861, false], ["fc-tls", 7862, true]]);
            }),
        );

        await t.step(
          "its sweep forgets servers dead past the retention and keeps the recently dead",
          () =>
            withLoadBalancer(
              url,
              { forgetAfterMs: LIVENESS_MS + 5_000, sweepMs: 50 },
              async (_lb, sql) => {
                await sql`delete from servers`;
                await insertServer(sql, { id: "fc-live", port: 7871 });
                await insertServer(sql, { id: "fc-dead", port: 7872, ageMs: LIVENESS_MS + 100 });
                await insertServer(sql, { id: "fc-gone", port: 7873, ageMs: 600_000 });
                let seen = "";
                await waitUntil(
                  async () => {
                    seen = (await sql`select id from servers order by id`).map((r) => r.id).join();
                    return seen === "fc-dead,fc-live";
                  },
                  10_000,
                  () => `fc-gone forgotten, fc-dead and fc-live kept (registry: ${seen})`,
                );
              },
            ),
        );

        await t.step("a retention within the liveness window is refused", async () => {
          await expect(withLoadBalancer(url, { forgetAfterMs: 1_000 }, () => Promise.resolve()))
            .rejects.toMatchObject({ code: "INVALID_CONFIG" });
        });

        await t.step("two LBs with the same key publish it once", async () => {
          const signer = await TicketSigner.generate();
          await withLoadBalancer(url, { signer }, async (_lb1, sql) => {
            await withLoadBalancer(url, { signer }, async (lb2) => {
              expect(lb2.keyId).toBe(signer.keyId);
              const rows = await sql`select key_id, public_key from lb_keys
                where key_id = ${signer.keyId}`;
              expect(rows.length).toBe(1);
              expect(new Uint8Array(rows[0].public_key)).toEqual(await signer.publicKey());
            });
          });
        });
      } finally {
        await db?.close();
      }
    },
  });
}
