import { expect } from "expect";
import { FastChatError } from "@fastchat/lib/errors";
import { fromBase64Url, randomBytes, toBase64Url } from "@fastchat/lib/crypto";
import {
  assembleTicket,
  encodeTicketBody,
  parseTicket,
  ticketKeyId,
  ticketSigningInput,
} from "./ticket_format.ts";
import { ticketRejectReason } from "./ticket_error.ts";
import { TicketVerifier } from "./ticket_verifier.ts";

/**
 * A signer written from the format's documentation alone (the LB's own,
 * `TicketSigner`, lives in the lb package and is tested against this
 * verifier there).
 */
async function testSigner() {
  const kp = await crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"]) as CryptoKeyPair;
  const pub = new Uint8Array(await crypto.subtle.exportKey("raw", kp.publicKey));
  const keyId = ticketKeyId(pub);
  return {
    keyId,
    publicKey: () => Promise.resolve(pub.slice()),
    async issue(o: { serverId: string; host: string; port: number; now: number; ttlMs?: number }) {
      const body = encodeTicketBody({
        version: 1,
        keyId,
        serverId: o.serverId,
        host: o.host,
        port: o.port,
        issuedAt: o.now,
        expiresAt: o.now + (o.ttlMs ?? 30_000),
        nonce: toBase64Url(randomBytes(16)),
      });
      const sig = await crypto.subtle.sign("Ed25519", kp.privateKey, ticketSigningInput(body));
      return assembleTicket(body, new Uint8Array(sig));
    },
  };
}

const T0 = 1_700_000_000_000;
const srv = { serverId: "srv-1", host: "10.0.0.5", port: 7701 };
const lb1 = await testSigner();
const lb2 = await testSigner();
const pub1 = await lb1.publicKey();
const pub2 = await lb2.publicKey();

/** The rejection reason (or error code) of a failed verification; undefined on success. */
async function reasonOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(FastChatError);
    return ticketRejectReason(e) ?? (e as FastChatError).code;
  }
  return undefined;
}

function verifier(opts = {}): TicketVerifier {
  return new TicketVerifier([pub1], opts);
}

Deno.test("a valid ticket is accepted and its claims returned", async () => {
  const t = await lb1.issue({ ...srv, now: T0 });
  const claims = await verifier().verify(t, { serverId: "srv-1", now: T0 + 1 });
  expect(claims).toMatchObject({ ...srv, keyId: lb1.keyId, issuedAt: T0, expiresAt: T0 + 30_000 });
});

Deno.test("forged: flipped signature or body byte, other key, unknown key", async () => {
  const t = await lb1.issue({ ...srv, now: T0 });
  const v = verifier();
  const bytes = fromBase64Url(t);
  for (const i of [bytes.length - 1, bytes.length - 40, 30, bytes.length - 70]) {
    const b = bytes.slice();
    b[i] ^= 0x01;
    const r = await reasonOf(v.verify(toBase64Url(b), { serverId: "srv-1", now: T0 }));
    expect(r).toBe("forged");
  }
  // same claims, but a port changed after signing
  const { claims, signature } = parseTicket(t);
  const moved = assembleTicket(encodeTicketBody({ ...claims, port: 7702 }), signature);
  expect(await reasonOf(v.verify(moved, { serverId: "srv-1", now: T0 }))).toBe("forged");
  // signed by a key this verifier does not trust
  const t2 = await lb2.issue({ ...srv, now: T0 });
  expect(await reasonOf(v.verify(t2, { serverId: "srv-1", now: T0 }))).toBe("forged");
  // lb2's signature relabelled with lb1's key id
  const p2 = parseTicket(t2);
  const relabelled = assembleTicket(
    encodeTicketBody({ ...p2.claims, keyId: lb1.keyId }),
    p2.signature,
  );
  expect(await reasonOf(v.verify(relabelled, { serverId: "srv-1", now: T0 }))).toBe("forged");
  // the genuine ticket still works afterwards (failed attempts do not burn it)
  expect(await reasonOf(v.verify(t, { serverId: "srv-1", now: T0 }))).toBeUndefined();
});

Deno.test("expired: rejected after expiry plus clock skew", async () => {
  const t = await lb1.issue({ ...srv, now: T0, ttlMs: 10_000 });
  const exp = T0 + 10_000;
  expect(await reasonOf(verifier().verify(t, { serverId: "srv-1", now: exp + 2_000 })))
    .toBe("expired");
  expect(await reasonOf(verifier().verify(t, { serverId: "srv-1", now: exp + 60_000 })))
    .toBe("expired");
  // within the default 2 s skew: accepted
  expect(await reasonOf(verifier().verify(t, { serverId: "srv-1", now: exp + 1_999 })))
    .toBeUndefined();
  // skew is configurable
  const strict = verifier({ clockSkewMs: 0 });
  expect(await reasonOf(strict.verify(t, { serverId: "srv-1", now: exp }))).toBe("expired");
});

Deno.test("not_yet_valid: issued in the future beyond the skew", async () => {
  const t = await lb1.issue({ ...srv, now: T0 + 5_000 });
  expect(await reasonOf(verifier().verify(t, { serverId: "srv-1", now: T0 })))
    .toBe("not_yet_valid");
  expect(await reasonOf(verifier().verify(t, { serverId: "srv-1", now: T0 + 3_000 })))
    .toBeUndefined();
  const lax = verifier({ clockSkewMs: 10_000 });
  expect(await reasonOf(lax.verify(t, { serverId: "srv-1", now: T0 }))).toBeUndefined();
});

Deno.test("lifetimes above maxTtlMs are refused", async () => {
  const t = await lb1.issue({ ...srv, now: T0, ttlMs: 60_000 });
  const v = verifier({ maxTtlMs: 30_000 });
  expect(await reasonOf(v.verify(t, { serverId: "srv-1", now: T0 }))).toBe("malformed");
});

Deno.test("wrong_server: a ticket for another server", async () => {
  const t = await lb1.issue({ ...srv, now: T0 });
  const v = verifier();
  expect(await reasonOf(v.verify(t, { serverId: "srv-2", now: T0 }))).toBe("wrong_server");
  expect(await reasonOf(v.verify(t, { serverId: "", now: T0 }))).toBe("BAD_REQUEST");
});

Deno.test("replayed: the second use fails, also when racing", async () => {
  const v = verifier();
  const t = await lb1.issue({ ...srv, now: T0 });
  expect(await reasonOf(v.verify(t, { serverId: "srv-1", now: T0 }))).toBeUndefined();
  expect(await reasonOf(v.verify(t, { serverId: "srv-1", now: T0 + 1 }))).toBe("replayed");
  const t2 = await lb1.issue({ ...srv, now: T0 });
  const results = await Promise.all(
    Array.from({ length: 10 }, () => reasonOf(v.verify(t2, { serverId: "srv-1", now: T0 }))),
  );
  expect(results.filter((r) => r === undefined).length).toBe(1);
  expect(results.filter((r) => r === "replayed").length).toBe(9);
});

Deno.test("a clock stepping back cannot revive an evicted ticket", async () => {
  const v = verifier();
  const t = await lb1.issue({ ...srv, now: T0 });
  await v.verify(t, { serverId: "srv-1", now: T0 });
  const later = await lb1.issue({ ...srv, now: T0 + 60_000 });
  await v.verify(later, { serverId: "srv-1", now: T0 + 60_000 }); // evicts t's nonce
  expect(v.replayCacheSize).toBe(1);
  expect(await reasonOf(v.verify(t, { serverId: "srv-1", now: T0 + 1 }))).toBe("expired");
});

Deno.test("busy: a full replay cache fails closed until entries expire", async () => {
  const v = verifier({ maxReplayEntries: 2 });
  for (let i = 0; i < 2; i++) {
    await v.verify(await lb1.issue({ ...srv, now: T0 }), { serverId: "srv-1", now: T0 });
  }
  const t = await lb1.issue({ ...srv, now: T0 + 1_000 });
  let err: unknown;
  await v.verify(t, { serverId: "srv-1", now: T0 + 1_000 }).catch((e) => err = e);
  expect(err).toBeInstanceOf(FastChatError);
  expect((err as FastChatError).code).toBe("RATE_LIMITED");
  expect((err as FastChatError).details).toEqual({ reason: "busy", retryMs: 31_000 });
  // not consumed: works once the earlier nonces have expired
  expect(await reasonOf(v.verify(t, { serverId: "srv-1", now: T0 + 32_000 }))).toBeUndefined();
});

Deno.test("several LB keys: list, map or record by key id; add and remove", async () => {
  const t1 = await lb1.issue({ ...srv, now: T0 });
  const t2 = await lb2.issue({ ...srv, now: T0 });
  const forms = [
    [pub1, pub2],
    new Map([[lb1.keyId, pub1], [lb2.keyId, pub2]]),
    { [lb1.keyId]: pub1, [lb2.keyId]: pub2 },
  ];
  for (const keys of forms) {
    const v = new TicketVerifier(keys);
    expect(v.keyIds.sort()).toEqual([lb1.keyId, lb2.keyId].sort());
    expect(await reasonOf(v.verify(t1, { serverId: "srv-1", now: T0 }))).toBeUndefined();
    expect(await reasonOf(v.verify(t2, { serverId: "srv-1", now: T0 }))).toBeUndefined();
  }
  const v = new TicketVerifier([]);
  expect(await reasonOf(v.verify(t1, { serverId: "srv-1", now: T0 }))).toBe("forged");
  expect(v.addKey(pub1)).toBe(lb1.keyId);
  expect(await reasonOf(v.verify(t1, { serverId: "srv-1", now: T0 }))).toBeUndefined();
  expect(v.removeKey(lb1.keyId)).toBe(true);
  const t3 = await lb1.issue({ ...srv, now: T0 });
  expect(await reasonOf(v.verify(t3, { serverId: "srv-1", now: T0 }))).toBe("forged");
});

Deno.test("bad key configuration throws INVALID_CONFIG", () => {
  const cases: (() => unknown)[] = [
    () => new TicketVerifier([new Uint8Array(31)]),
    () => new TicketVerifier(new Map([[lb2.keyId, pub1]])),
    () => new TicketVerifier({ wrong: pub1 }),
    () => new TicketVerifier([pub1], { clockSkewMs: -1 }),
    () => new TicketVerifier([pub1], { maxReplayEntries: 0 }),
  ];
  // small-order points, which would make every signature "verify"
  const weak = ["00".repeat(32), "01" + "00".repeat(31), "ec" + "ff".repeat(30) + "ff"];
  for (const hex of weak) {
    const raw = new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
    cases.push(() => new TicketVerifier([raw]));
  }
  for (const fn of cases) {
    let code: string | undefined;
    try {
      fn();
    } catch (e) {
      code = (e as FastChatError).code;
    }
    expect(code).toBe("INVALID_CONFIG");
  }
});

Deno.test("malformed inputs are rejected, never crash", async () => {
  const v = verifier();
  const t = await lb1.issue({ ...srv, now: T0 });
  const b = fromBase64Url(t);
  const wrongVersion = b.slice();
  wrongVersion[0] = 2;
  const inputs = [
    "",
    "garbage",
    "%%%",
    t.slice(0, 50),
    t.slice(0, -3),
    toBase64Url(wrongVersion),
    "A".repeat(5000),
    123 as unknown as string,
    null as unknown as string,
  ];
  for (const input of inputs) {
    expect(await reasonOf(v.verify(input, { serverId: "srv-1", now: T0 }))).toBe("malformed");
  }
});
