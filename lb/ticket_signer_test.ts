import { expect } from "expect";
import { toBase64Url } from "@fastchat/lib/crypto";
import { parseTicket, ticketKeyId } from "@fastchat/lib/cluster/ticket_format";
import { TicketSigner } from "./ticket_signer.ts";
import { codeOf } from "@fastchat/testing";

const signer = await TicketSigner.generate();
const target = { serverId: "srv-1", host: "chat1.local", port: 7701 };

Deno.test("generate: raw 32-byte public key, key id derived from it", async () => {
  const pub = await signer.publicKey();
  expect(pub.length).toBe(32);
  expect(signer.keyId).toBe(ticketKeyId(pub));
  pub[0] ^= 1; // a copy: callers cannot change the signer
  expect(await signer.publicKey()).not.toEqual(pub);
  expect(signer.extractable).toBe(true);
});

Deno.test("issue binds server, host, port, times, nonce and key id", async () => {
  const t = await signer.issue({ ...target, now: 1_000_000 });
  const { claims } = parseTicket(t);
  expect(claims).toMatchObject({
    version: 1,
    keyId: signer.keyId,
    ...target,
    issuedAt: 1_000_000,
    expiresAt: 1_030_000, // default TTL 30 s
  });
  expect(claims.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/); // 128 bits
  const t2 = await signer.issue({ ...target, now: 1_000_000, ttlMs: 5_000 });
  expect(parseTicket(t2).claims.expiresAt).toBe(1_005_000);
  expect(parseTicket(t2).claims.nonce).not.toBe(claims.nonce);
});

Deno.test("issue rejects invalid arguments with BAD_REQUEST", async () => {
  const bad = [
    { ttlMs: 0 },
    { ttlMs: 300_001 },
    { ttlMs: 1.5 },
    { now: -1 },
    { now: NaN },
    { serverId: "" },
    { host: "a b" },
    { port: 0 },
    { port: 70000 },
  ];
  for (const patch of bad) {
    expect(await codeOf(() => signer.issue({ ...target, ...patch }))).toBe("BAD_REQUEST");
  }
});

Deno.test("import from PKCS#8 and JWK keeps the key id; non-extractable by default", async () => {
  const fromPkcs8 = await TicketSigner.import(await signer.exportPrivate());
  const fromJwk = await TicketSigner.import(await signer.exportPrivateJwk(), {
    extractable: true,
  });
  expect(fromPkcs8.keyId).toBe(signer.keyId);
  expect(fromJwk.keyId).toBe(signer.keyId);
  expect(await fromPkcs8.publicKey()).toEqual(await signer.publicKey());
  expect(fromPkcs8.extractable).toBe(false);
  expect(await codeOf(() => fromPkcs8.exportPrivate())).toBe("INVALID_CONFIG");
  expect(await codeOf(() => fromPkcs8.exportPrivateJwk())).toBe("INVALID_CONFIG");
  expect(fromJwk.extractable).toBe(true);
  expect(await fromJwk.exportPrivate()).toEqual(await signer.exportPrivate());
});

Deno.test("import rejects bad or mismatched keys with INVALID_CONFIG", async () => {
  const other = await TicketSigner.generate();
  const jwk = await signer.exportPrivateJwk();
  const bad: (JsonWebKey | Uint8Array)[] = [
    new Uint8Array(0),
    new Uint8Array(48),
    { ...jwk, crv: "X25519" },
    { ...jwk, kty: "EC" },
    { kty: "OKP", crv: "Ed25519", x: jwk.x },
    { ...jwk, x: toBase64Url(await other.publicKey()) }, // x not derived from d
    { ...jwk, d: "!!" },
  ];
  for (const key of bad) {
    expect(await codeOf(() => TicketSigner.import(key))).toBe("INVALID_CONFIG");
  }
  expect(await codeOf(() => TicketSigner.import(null as unknown as JsonWebKey))).toBe(
    "INVALID_CONFIG",
  );
});
