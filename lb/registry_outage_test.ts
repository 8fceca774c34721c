/**
 * The load balancer when its database is gone, as a client meets it: a
 * ticket request is refused with `STORE_UNAVAILABLE` and a retry hint, and
 * the message names no internal address (real LB on loopback, PGlite).
 */
import { expect } from "expect";
import { requestTicket } from "@fastchat/client/lb_client";
import { openTestDb, withLoadBalancer } from "@fastchat/testing";

Deno.test("registry unreachable: STORE_UNAVAILABLE with a retry hint, no database address", async () => {
  const db = await openTestDb("pglite");
  let closed = false;
  try {
    await withLoadBalancer(db.url, {}, async (lb) => {
      await db.close(); // no server was ever registered: every ticket reads the registry
      closed = true;
      const err = await requestTicket(lb).catch((e) => e);
      expect(err).toMatchObject({ code: "STORE_UNAVAILABLE" });
      expect(err.message).toMatch(/try again/);
      expect(err.details?.retryMs).toBeGreaterThan(0);
      expect(err.message).not.toMatch(/127\.0\.0\.1|ECONN|postgres/);
    });
  } finally {
    if (!closed) await db.close();
  }
});
