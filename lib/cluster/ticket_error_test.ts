import { expect } from "expect";
import { FastChatError } from "@fastchat/lib/errors";
import { ticketError, ticketRejectReason } from "./ticket_error.ts";

Deno.test("ticketError gives each reason its own stable code, reason in details", () => {
  const e = ticketError("expired", "ticket expired", { expiresAt: 5 }, new Error("why"));
  expect(e).toBeInstanceOf(FastChatError);
  expect(e.code).toBe("TICKET_EXPIRED");
  expect(ticketError("forged", "x").code).toBe("TICKET_FORGED");
  expect(ticketError("replayed", "x").code).toBe("TICKET_REPLAYED");
  expect(ticketError("wrong_server", "x").code).toBe("TICKET_WRONG_SERVER");
  expect(ticketError("malformed", "x").code).toBe("TICKET_MALFORMED");
  expect(e.details).toEqual({ reason: "expired", expiresAt: 5 });
  expect((e.cause as Error).message).toBe("why");
  expect(ticketRejectReason(e)).toBe("expired");
});

Deno.test("busy is RATE_LIMITED so clients retry", () => {
  const e = ticketError("busy", "x", { retryMs: 5 });
  expect(e.code).toBe("RATE_LIMITED");
  expect(e.details).toEqual({ reason: "busy", retryMs: 5 });
});

Deno.test("ticketRejectReason is undefined for other errors", () => {
  expect(ticketRejectReason(new Error("x"))).toBeUndefined();
  expect(ticketRejectReason(new FastChatError("INTERNAL", "x"))).toBeUndefined();
  expect(ticketRejectReason("expired")).toBeUndefined();
  const unrelated = new FastChatError("DECRYPT_FAILED", "x", { reason: "something else" });
  expect(ticketRejectReason(unrelated)).toBeUndefined();
  expect(ticketError("forged", "x", { reason: "spoofed" } as never).details?.reason).toBe("forged");
});
