import { expect } from "expect";
import * as lb from "./mod.ts";

Deno.test("end to end: two LB processes with persisted keys, one chat server", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fastchat-lb-" });
  try {
    // two LBs side by side, each with its own key file; both publish their public key
    const lbA = await lb.loadOrCreateSigner(`${dir}/a/key.json`);
    const lbB = await lb.loadOrCreateSigner(`${dir}/b/key.json`);
    expect(lbA.keyId).not.toBe(lbB.keyId);
    const published = new Map([
      [lbA.keyId, await lbA.publicKey()],
      [lbB.keyId, await lbB.publicKey()],
    ]);
    const server = new lb.TicketVerifier(published);

    const target = { serverId: "srv-1", host: "127.0.0.1", port: 7701 };
    const fromA = await lbA.issue(target);
    const fromB = await lbB.issue(target);
    expect((await server.verify(fromA, { serverId: "srv-1" })).keyId).toBe(lbA.keyId);
    expect((await server.verify(fromB, { serverId: "srv-1" })).host).toBe("127.0.0.1");

    const reasons: (string | undefined)[] = [];
    for (const t of [fromA, "nonsense", await lbA.issue({ ...target, serverId: "srv-2" })]) {
      await server.verify(t, { serverId: "srv-1" }).catch((e) =>
        reasons.push(lb.ticketRejectReason(e))
      );
    }
    expect(reasons).toEqual(["replayed", "malformed", "wrong_server"]);
    expect(lb.DEFAULT_LB_PORT).toBe(7700);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
