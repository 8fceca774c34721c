import { expect } from "expect";
import { FastChatError } from "@fastchat/lib/errors";
import { msgpackBombs } from "@fastchat/lib/msgpack_bombs";
import { concatBytes, fromBase64Url, randomBytes, toBase64Url } from "@fastchat/lib/crypto";
import {
  assembleTicket,
  encodeTicketBody,
  MAX_TICKET_CHARS,
  parseTicket,
  type TicketClaims,
  ticketKeyId,
} from "./ticket_format.ts";
import { ticketRejectReason } from "./ticket_error.ts";

const claims: TicketClaims = {
  version: 1,
  keyId: ticketKeyId(new Uint8Array(32).fill(7)),
  serverId: "srv-1",
  host: "10.0.0.5",
  port: 7701,
  issuedAt: 1_700_000_000_000,
  expiresAt: 1_700_000_030_000,
  nonce: toBase64Url(randomBytes(16)),
};
const sig = new Uint8Array(64).fill(9);
const good = assembleTicket(encodeTicketBody(claims), sig);

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FastChatError);
    return ticketRejectReason(e) ?? (e as FastChatError).code;
  }
  return undefined;
}

Deno.test("ticketKeyId is stable, 11 base64url chars, and key-specific", () => {
  const a = ticketKeyId(new Uint8Array(32).fill(1));
  expect(a).toMatch(/^[A-Za-z0-9_-]{11}$/);
  expect(ticketKeyId(new Uint8Array(32).fill(1))).toBe(a);
  expect(ticketKeyId(new Uint8Array(32).fill(2))).not.toBe(a);
});

Deno.test("encode/parse round-trips the claims, body and signature", () => {
  const parsed = parseTicket(good);
  expect(parsed.claims).toEqual(claims);
  expect(parsed.signature).toEqual(sig);
  expect(parsed.body).toEqual(encodeTicketBody(claims));
  expect(good.length).toBeLessThan(200);
});

Deno.test("encodeTicketBody rejects invalid claims with BAD_REQUEST", () => {
  const bad: Partial<TicketClaims>[] = [
    { version: 2 },
    { serverId: "" },
    { serverId: "has space" },
    { serverId: "x".repeat(129) },
    { host: "tab\there" },
    { host: "é" },
    { port: 0 },
    { port: 65536 },
    { port: 1.5 },
    { issuedAt: -1 },
    { expiresAt: claims.issuedAt },
    { keyId: "AAAA" },
    { nonce: "AAAA" },
  ];
  for (const patch of bad) {
    expect(reasonOf(() => encodeTicketBody({ ...claims, ...patch }))).toBe("BAD_REQUEST");
  }
});

Deno.test("parseTicket rejects malformed input as malformed, never crashing", () => {
  const bytes = fromBase64Url(good);
  const withVersion = (v: number) => {
    const b = bytes.slice();
    b[0] = v;
    return toBase64Url(b);
  };
  const inputs: unknown[] = [
    "",
    undefined,
    null,
    42,
    {},
    "garbage!",
    "a",
    "====",
    good + "=",
    good.slice(0, -1),
    good.slice(0, 40),
    toBase64Url(bytes.subarray(0, bytes.length - 1)), // truncated
    toBase64Url(concatBytes(bytes, new Uint8Array([0]))), // trailing byte
    withVersion(0),
    withVersion(2),
    withVersion(255),
    "A".repeat(MAX_TICKET_CHARS + 4),
    toBase64Url(new Uint8Array(200)),
  ];
  for (const input of inputs) {
    expect(reasonOf(() => parseTicket(input))).toBe("malformed");
  }
});

Deno.test("parseTicket rejects a well-framed body with invalid fields", () => {
  // serverId with a control character, written by hand (encodeTicketBody refuses it)
  const body = encodeTicketBody({ ...claims, serverId: "srv-X" });
  const at = 1 + 8 + 2 + "srv-".length; // version, keyId, u16 length, prefix
  expect(body[at]).toBe("X".charCodeAt(0));
  body[at] = 0x07;
  expect(reasonOf(() => parseTicket(assembleTicket(body, sig)))).toBe("malformed");
});

Deno.test("parseTicket survives random input (fuzz)", () => {
  const bytes = fromBase64Url(good);
  for (let i = 0; i < 2000; i++) {
    const b = i % 2 ? randomBytes(i % 300) : bytes.slice();
    if (i % 2 === 0) b[i % b.length] ^= 1 + (i % 255);
    const r = reasonOf(() => parseTicket(toBase64Url(b)));
    // a flipped byte may still parse (only the signature would catch it)
    expect(r === undefined || r === "malformed").toBe(true);
  }
});

Deno.test("parseTicket: lying lengths, bombs and a 16 MiB string are malformed, never decoded", () => {
  const bytes = fromBase64Url(good);
  const serverIdLength = 1 + 8; // version, keyId, then u16 length of serverId
  for (const n of [0xffff, 0x8000, bytes.length]) {
    const b = bytes.slice();
    b[serverIdLength] = n >> 8;
    b[serverIdLength + 1] = n & 0xff;
    expect({ n, reason: reasonOf(() => parseTicket(toBase64Url(b))) }).toEqual({
      n,
      reason: "malformed",
    });
  }
  for (const [name, bomb] of msgpackBombs()) {
    expect({ name, reason: reasonOf(() => parseTicket(toBase64Url(bomb))) }).toEqual({
      name,
      reason: "malformed",
    });
  }
  // refused by its length before any base64 decoding
  expect(reasonOf(() => parseTicket("A".repeat(16 * 1024 * 1024)))).toBe("malformed");
});
