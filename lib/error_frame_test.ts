import { expect } from "expect";
import { FastChatError } from "./errors.ts";
import { errorFrame, errorFromFrame } from "./error_frame.ts";
import { decodeServerFrame, encodePayload } from "./protocol.ts";

const roundTrip = (e: FastChatError, opts?: Parameters<typeof errorFrame>[1]) =>
  errorFromFrame(decodeServerFrame(encodePayload(errorFrame(e, opts))) as never);

Deno.test("errorFrame: code, message, rid and id; no retry without a hint", () => {
  const f = errorFrame(new FastChatError("UNKNOWN_USER", "no such user: bob"), {
    rid: 3,
    id: "m1",
  });
  expect(f).toEqual({
    t: "error",
    rid: 3,
    id: "m1",
    code: "UNKNOWN_USER",
    message: "no such user: bob",
  });
  expect(errorFrame(new FastChatError("INTERNAL", "db exploded"), { message: "internal error" }))
    .toEqual({ t: "error", code: "INTERNAL", message: "internal error" });
});

Deno.test("the retry hint travels as retry and comes back as details.retryMs", () => {
  const busy = new FastChatError("RATE_LIMITED", "busy", { retryMs: 1234.2, reason: "busy" });
  expect(errorFrame(busy).retry).toBe(1235); // whole ms, rounded up: the schema wants an integer
  const back = roundTrip(busy, { rid: 9 });
  expect(back.code).toBe("RATE_LIMITED");
  expect(back.message).toBe("busy");
  expect(back.details).toEqual({ retryMs: 1235 });
  expect(roundTrip(new FastChatError("RATE_LIMITED", "x", { retryMs: -5 })).details?.retryMs)
    .toBe(0);
});

Deno.test("errorFromFrame: unknown codes become INTERNAL, no details without retry", () => {
  const e = errorFromFrame({ t: "error", code: "FROM_THE_FUTURE", message: "hm" });
  expect(e.code).toBe("INTERNAL");
  expect(e.message).toBe("hm");
  expect(e.details).toBeUndefined();
});
