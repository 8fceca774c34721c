/**
 * The LB side of tickets: an Ed25519 key pair that issues signed tickets
 * naming one chat server (see `@fastchat/lib/cluster/ticket_format` for the format).
 *
 * @example
 * ```ts
 * import { TicketSigner } from "@fastchat/lb/ticket";
 * const signer = await TicketSigner.generate();
 * const ticket = await signer.issue({ serverId: "srv-1", host: "10.0.0.5", port: 7701 });
 * ```
 * @module
 */

import { FastChatError } from "@fastchat/lib/errors";
import { bufferSource, fromBase64Url, randomBytes, toBase64Url } from "@fastchat/lib/crypto";
import {
  assembleTicket,
  DEFAULT_TICKET_TTL_MS,
  encodeTicketBody,
  MAX_TICKET_TTL_MS,
  TICKET_NONCE_BYTES,
  TICKET_VERSION,
  ticketKeyId,
  ticketSigningInput,
} from "@fastchat/lib/cluster/ticket_format";

const ED25519 = "Ed25519";

/**
 * Arguments of {@link TicketSigner.issue}.
 *
 * @example
 * ```ts
 * const opts: IssueTicketOptions = { serverId: "srv-1", host: "chat1.local", port: 7701 };
 * ```
 */
export interface IssueTicketOptions {
  /** Chat server the ticket is for (printable ASCII, ≤ 128 chars). */
  serverId: string;
  /** Its host (printable ASCII, ≤ 255 chars). */
  host: string;
  /** Its port, 1–65535. */
  port: number;
  /** Lifetime in ms, 1–{@link MAX_TICKET_TTL_MS} (default {@link DEFAULT_TICKET_TTL_MS}). */
  ttlMs?: number;
  /** Issue time, Unix ms (default `Date.now()`). */
  now?: number;
}

/**
 * Options for {@link TicketSigner.import}.
 *
 * @example
 * ```ts
 * const opts: ImportSignerOptions = { extractable: true };
 * ```
 */
export interface ImportSignerOptions {
  /** Keep the private key exportable (needed for `exportPrivate`). Default `false`. */
  extractable?: boolean;
}

function badKey(message: string, cause?: unknown): FastChatError {
  return new FastChatError("INVALID_CONFIG", `LB ticket key: ${message}`, undefined, { cause });
}

/**
 * Issues tickets with one LB key pair. Create with {@link TicketSigner.generate}
 * or {@link TicketSigner.import}.
 *
 * @example
 * ```ts
 * import { TicketVerifier } from "@fastchat/lib/cluster";
 * const signer = await TicketSigner.generate();
 * const verifier = new TicketVerifier([await signer.publicKey()]);
 * const t = await signer.issue({ serverId: "srv-1", host: "127.0.0.1", port: 7701 });
 * await verifier.verify(t, { serverId: "srv-1" });
 * ```
 */
export class TicketSigner {
  /** Id of this key ({@link ticketKeyId} of the public key), written into every ticket. */
  readonly keyId: string;
  #privateKey: CryptoKey;
  #publicKey: Uint8Array<ArrayBuffer>;

  private constructor(privateKey: CryptoKey, publicKey: Uint8Array<ArrayBuffer>) {
    this.#privateKey = privateKey;
    this.#publicKey = publicKey;
    this.keyId = ticketKeyId(publicKey);
  }

  /**
   * Generates a fresh key pair (extractable, so it can be saved once).
   *
   * @example
   * ```ts
   * const signer = await TicketSigner.generate();
   * ```
   */
  static async generate(): Promise<TicketSigner> {
    const kp = await crypto.subtle.generateKey(ED25519, true, ["sign", "verify"]) as CryptoKeyPair;
    const pub = new Uint8Array(await crypto.subtle.exportKey("raw", kp.publicKey));
    return new TicketSigner(kp.privateKey, pub);
  }

  /**
   * Imports a private key: an Ed25519 JWK (`kty: "OKP"`, `crv: "Ed25519"`,
   * `d`, `x`) or PKCS#8 bytes. Checks that the pair actually works; throws
   * `INVALID_CONFIG` otherwise. Non-extractable unless asked.
   *
   * @example
   * ```ts
   * const signer = await TicketSigner.generate();
   * const again = await TicketSigner.import(await signer.exportPrivate());
   * ```
   */
  static async import(
    key: JsonWebKey | Uint8Array,
    options: ImportSignerOptions = {},
  ): Promise<TicketSigner> {
    let jwk: JsonWebKey;
    if (key instanceof Uint8Array) {
      try {
        const k = await crypto.subtle.importKey("pkcs8", bufferSource(key), ED25519, true, [
          "sign",
        ]);
        jwk = await crypto.subtle.exportKey("jwk", k);
      } catch (e) {
        throw badKey("not an Ed25519 PKCS#8 private key", e);
      }
    } else if (key && typeof key === "object") {
      jwk = key;
    } else {
      throw badKey("expected a JWK or PKCS#8 bytes");
    }
    if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519") throw badKey("not an Ed25519 JWK");
    if (typeof jwk.d !== "string" || typeof jwk.x !== "string") throw badKey("JWK lacks d or x");
    let priv: CryptoKey, pub: CryptoKey, raw: Uint8Array<ArrayBuffer>;
    try {
      const clean = { kty: "OKP", crv: "Ed25519", d: jwk.d, x: jwk.x };
      priv = await crypto.subtle.importKey("jwk", clean, ED25519, !!options.extractable, ["sign"]);
      raw = fromBase64Url(jwk.x);
      pub = await crypto.subtle.importKey("raw", raw, ED25519, true, ["verify"]);
    } catch (e) {
      throw badKey("invalid Ed25519 key", e);
    }
    // WebCrypto does not check that x belongs to d: prove it with a signature.
    const probe = randomBytes(32);
    const sig = await crypto.subtle.sign(ED25519, priv, probe);
    if (!await crypto.subtle.verify(ED25519, pub, sig, probe)) {
      throw badKey("private and public key do not match");
    }
    return new TicketSigner(priv, raw);
  }

  /** Whether {@link TicketSigner.exportPrivate} can work. */
  get extractable(): boolean {
    return this.#privateKey.extractable;
  }

  /**
   * Exports the private key as PKCS#8 bytes. Throws `INVALID_CONFIG` if
   * the key was imported non-extractable.
   *
   * @example
   * ```ts
   * declare const path: string;
   * const signer = await TicketSigner.generate();
   * await Deno.writeFile(path, await signer.exportPrivate(), { mode: 0o600 });
   * ```
   */
  async exportPrivate(): Promise<Uint8Array> {
    if (!this.extractable) throw badKey("private key is not extractable");
    return new Uint8Array(await crypto.subtle.exportKey("pkcs8", this.#privateKey));
  }

  /**
   * Exports the private key as a JWK (`kty`, `crv`, `d`, `x`).
   *
   * @example
   * ```ts
   * const signer = await TicketSigner.generate();
   * const jwk = await signer.exportPrivateJwk();
   * ```
   */
  async exportPrivateJwk(): Promise<JsonWebKey> {
    if (!this.extractable) throw badKey("private key is not extractable");
    const { kty, crv, d, x } = await crypto.subtle.exportKey("jwk", this.#privateKey);
    return { kty, crv, d, x };
  }

  /**
   * The raw 32-byte Ed25519 public key (a copy), to publish for verifiers.
   *
   * @example
   * ```ts
   * import { TicketVerifier } from "@fastchat/lib/cluster";
   * const signer = await TicketSigner.generate();
   * const verifier = new TicketVerifier([await signer.publicKey()]);
   * ```
   */
  publicKey(): Promise<Uint8Array> {
    return Promise.resolve(this.#publicKey.slice());
  }

  /**
   * Issues a ticket for one chat server. Throws `BAD_REQUEST` for invalid
   * arguments (see {@link IssueTicketOptions}).
   *
   * @example
   * ```ts
   * const signer = await TicketSigner.generate();
   * const ticket = await signer.issue({ serverId: "srv-1", host: "10.0.0.5", port: 7701 });
   * ```
   */
  async issue(opts: IssueTicketOptions): Promise<string> {
    const ttlMs = opts.ttlMs ?? DEFAULT_TICKET_TTL_MS;
    const now = opts.now ?? Date.now();
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_TICKET_TTL_MS) {
      throw new FastChatError("BAD_REQUEST", `ttlMs must be 1-${MAX_TICKET_TTL_MS}: ${ttlMs}`);
    }
    if (!Number.isSafeInteger(now) || now < 0) {
      throw new FastChatError("BAD_REQUEST", `now must be a non-negative integer: ${now}`);
    }
    const body = encodeTicketBody({
      version: TICKET_VERSION,
      keyId: this.keyId,
      serverId: opts.serverId,
      host: opts.host,
      port: opts.port,
      issuedAt: now,
      expiresAt: now + ttlMs,
      nonce: toBase64Url(randomBytes(TICKET_NONCE_BYTES)),
    });
    const sig = await crypto.subtle.sign(ED25519, this.#privateKey, ticketSigningInput(body));
    return assembleTicket(body, new Uint8Array(sig));
  }
}
