/**
 * The load balancer's connection caps and closing over real TCP: past the
 * cap per address or in total a connection is refused at once
 * (`RATE_LIMITED`, nothing read); an oversized frame gets
 * `FRAME_TOO_LARGE`; after the first invalid frame nothing more is decoded.
 */
import { expect } from "expect";
import { encodeFrame } from "@fastchat/lib/frame";
import {
  DB_KINDS,
  expectAdmitted,
  expectRefused,
  openTestDb,
  type RawPeer,
  withLoadBalancer,
} from "@fastchat/testing";

/**
 * Has the LB close `p` (an invalid frame): its place is free once the
 * socket is closed, as the LB releases it in the same turn as it closes.
 */
async function kick(p: RawPeer): Promise<void> {
  await p.write(encodeFrame(new Uint8Array([0xc1])));
  await p.closed;
}

for (const kind of DB_KINDS) {
  Deno.test({
    name: `load balancer caps (${kind})`,
    async fn(t) {
      const db = await openTestDb(kind);
      try {
        await t.step(
          "per address: N+1 raw sockets, the extra one is refused",
          () =>
            withLoadBalancer(db.url, {
              host: "::",
              limits: { maxPerAddress: 2, maxConnections: 100 },
            }, async (lb) => {
              const a = [
                await expectAdmitted("::1", lb.port),
                await expectAdmitted("::1", lb.port),
              ];
              await expectRefused("::1", lb.port);
              const other = await expectAdmitted("127.0.0.1", lb.port); // another address
              await kick(a[0]);
              a[0] = await expectAdmitted("::1", lb.port);
              await expectRefused("::1", lb.port);
              expect(lb.connectionsRefused).toBe(2);
              for (const p of [...a, other]) await kick(p);
              expect(lb.connections).toBe(0);
            }),
        );
        await t.step(
          "in total: the extra one is refused from any address",
          () =>
            withLoadBalancer(db.url, {
              host: "::",
              limits: { maxPerAddress: 100, maxConnections: 2 },
            }, async (lb) => {
              const a = await expectAdmitted("::1", lb.port);
              const b = await expectAdmitted("127.0.0.1", lb.port);
              await expectRefused("127.0.0.1", lb.port);
              await kick(a);
              const c = await expectAdmitted("127.0.0.1", lb.port);
              await kick(b);
              await kick(c);
            }),
        );
        await t.step(
          "an oversized frame gets FRAME_TOO_LARGE with the limit",
          () =>
            withLoadBalancer(db.url, {}, async (lb) => {
              const p = await expectAdmitted(lb.host, lb.port);
              await p.write(encodeFrame(new Uint8Array(5000)));
              await p.closed;
              expect(p.frames.at(-1)).toMatchObject({ t: "error", code: "FRAME_TOO_LARGE" });
              expect((p.frames.at(-1) as { message: string }).message).toContain("4096");
            }),
        );
        await t.step(
          "2,000 bad frames in one write: one answer, then the close",
          () =>
            withLoadBalancer(db.url, {}, async (lb) => {
              const p = await expectAdmitted(lb.host, lb.port);
              const one = encodeFrame(new Uint8Array([0xc1]));
              const all = new Uint8Array(one.length * 2000);
              for (let i = 0; i < 2000; i++) all.set(one, i * one.length);
              await p.write(all);
              await p.closed;
              expect(p.frames.filter((f) => f.t === "error")).toEqual([
                expect.objectContaining({ code: "BAD_FRAME" }),
              ]);
            }),
        );
      } finally {
        await db.close();
      }
    },
  });
}
