/**
 * SCRAM-SHA-256 (RFC 5802 / RFC 7677), server side, as PostgreSQL speaks it:
 * no channel binding (gs2 header `n,,` or `y,,`; `p=` is refused), the user
 * name inside the SCRAM messages is ignored (the startup packet names the
 * user). The server keeps only the derived keys ({@link ScramVerifier}); each
 * connection runs one {@link ScramExchange}. Passwords are used as UTF-8
 * bytes without SASLprep (FastChat's generated passwords are base64url).
 *
 * @example
 * ```ts
 * import { ScramExchange, ScramVerifier } from "./scram.ts";
 * const verifier = ScramVerifier.fromPassword("pencil");
 * const exchange = new ScramExchange(verifier);
 * const serverFirst = exchange.start("n,,n=*,r=clientnonce");
 * // … the client answers with its proof; exchange.finish(clientFinal) returns "v=…" or throws
 * ```
 * @module
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

/** Iterations of PBKDF2 (PostgreSQL's default `scram_iterations`). */
export const SCRAM_ITERATIONS = 4096;
/** Longest client-first or client-final message accepted. */
export const MAX_SCRAM_MESSAGE_BYTES = 1024;

/** A failed exchange; `sqlState` is `28P01` (authentication failed) or `08P01` (malformed). */
export class ScramError extends Error {
  /** SQLSTATE to report to the client. */
  readonly sqlState: string;
  /**
   * An error to report with SQLSTATE `sqlState`.
   *
   * @example
   * ```ts
   * import { ScramError } from "./scram.ts";
   * const err = new ScramError("password authentication failed", "28P01");
   * err.sqlState; // "28P01", sent to the client in the ErrorResponse
   * ```
   */
  constructor(message: string, sqlState: string) {
    super(message);
    this.name = "ScramError";
    this.sqlState = sqlState;
  }
}

const hmac = (key: Uint8Array, text: string): Uint8Array =>
  new Uint8Array(createHmac("sha256", key).update(text).digest());
const sha256 = (bytes: Uint8Array): Uint8Array =>
  new Uint8Array(createHash("sha256").update(bytes).digest());
const b64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));

function unb64(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/**
 * What the server stores for one password: salt, iterations, StoredKey and
 * ServerKey (the password itself is not kept).
 *
 * @example
 * ```ts
 * import { ScramVerifier } from "./scram.ts";
 * const v = ScramVerifier.fromPassword("secret");
 * console.log(v.iterations); // 4096
 * ```
 */
export class ScramVerifier {
  /** PBKDF2 salt. */
  readonly salt: Uint8Array;
  /** PBKDF2 iterations. */
  readonly iterations: number;
  /** H(ClientKey). */
  readonly storedKey: Uint8Array;
  /** HMAC(SaltedPassword, "Server Key"). */
  readonly serverKey: Uint8Array;

  private constructor(
    salt: Uint8Array,
    iterations: number,
    stored: Uint8Array,
    server: Uint8Array,
  ) {
    this.salt = salt;
    this.iterations = iterations;
    this.storedKey = stored;
    this.serverKey = server;
  }

  /**
   * Derives the keys of `password` (one PBKDF2 run); `salt` defaults to 16 random bytes.
   *
   * @example
   * ```ts
   * import { ScramVerifier } from "./scram.ts";
   * const v = ScramVerifier.fromPassword("pencil", new Uint8Array(16), 4096);
   * ```
   */
  static fromPassword(
    password: string,
    salt: Uint8Array = new Uint8Array(randomBytes(16)),
    iterations = SCRAM_ITERATIONS,
  ): ScramVerifier {
    const salted = new Uint8Array(pbkdf2Sync(password, salt, iterations, 32, "sha256"));
    const clientKey = hmac(salted, "Client Key");
    return new ScramVerifier(salt, iterations, sha256(clientKey), hmac(salted, "Server Key"));
  }
}

/** Parses `a=x,b=y,…` attributes (values may contain `=`). */
function attributes(text: string): [string, string][] {
  return text.split(",").map((part) => [part.slice(0, 1), part.slice(2)]);
}

/**
 * One server-side exchange: {@link start} answers the client-first message,
 * {@link finish} checks the client's proof and returns the server-final
 * message. Any failure throws {@link ScramError}; a failed exchange stays failed.
 *
 * @example
 * ```ts
 * import { ScramExchange, ScramVerifier } from "./scram.ts";
 * const ex = new ScramExchange(ScramVerifier.fromPassword("pencil"));
 * console.log(ex.start("n,,n=*,r=abc").startsWith("r=abc")); // true
 * ```
 */
export class ScramExchange {
  #verifier: ScramVerifier;
  #serverNonce: string;
  #state: "start" | "final" | "done" | "failed" = "start";
  #gs2Header = "";
  #nonce = "";
  #authPrefix = "";

  /** `serverNonce` (default 18 random bytes, base64) exists for test vectors. */
  constructor(verifier: ScramVerifier, serverNonce: string = b64(new Uint8Array(randomBytes(18)))) {
    this.#verifier = verifier;
    this.#serverNonce = serverNonce;
  }

  /** Whether {@link finish} succeeded. */
  get authenticated(): boolean {
    return this.#state === "done";
  }

  #fail(message: string, sqlState = "08P01"): never {
    this.#state = "failed";
    throw new ScramError(message, sqlState);
  }

  /** Takes the client-first message; returns the server-first message. */
  start(clientFirst: string): string {
    if (this.#state !== "start") this.#fail("unexpected SASL initial response");
    if (clientFirst.length > MAX_SCRAM_MESSAGE_BYTES) this.#fail("SASL message too long");
    if (clientFirst.startsWith("p=")) {
      this.#fail("channel binding is not supported without TLS", "28P01");
    }
    const m = /^([ny]),(a=[^,]*)?,(.*)$/s.exec(clientFirst);
    if (!m) this.#fail("malformed SCRAM client-first message: bad gs2 header");
    if (m[2]) this.#fail("SCRAM authorization identity is not supported");
    const bare = m[3];
    const attrs = attributes(bare);
    if (attrs[0]?.[0] === "m") this.#fail("SCRAM extensions are not supported");
    if (attrs[0]?.[0] !== "n" || attrs[1]?.[0] !== "r") {
      this.#fail("malformed SCRAM client-first message");
    }
    const clientNonce = attrs[1][1];
    if (!/^[\x21-\x2b\x2d-\x7e]+$/.test(clientNonce)) this.#fail("malformed SCRAM client nonce");
    this.#gs2Header = `${m[1]},,`;
    this.#nonce = clientNonce + this.#serverNonce;
    const v = this.#verifier;
    const serverFirst = `r=${this.#nonce},s=${b64(v.salt)},i=${v.iterations}`;
    this.#authPrefix = `${bare},${serverFirst},`;
    this.#state = "final";
    return serverFirst;
  }

  /** Takes the client-final message; returns the server-final message (`v=…`). */
  finish(clientFinal: string): string {
    if (this.#state !== "final") this.#fail("unexpected SASL response");
    if (clientFinal.length > MAX_SCRAM_MESSAGE_BYTES) this.#fail("SASL message too long");
    const at = clientFinal.lastIndexOf(",p=");
    if (at < 0) this.#fail("malformed SCRAM client-final message: no proof");
    const withoutProof = clientFinal.slice(0, at);
    const attrs = attributes(withoutProof);
    if (attrs[0]?.[0] !== "c" || attrs[1]?.[0] !== "r") {
      this.#fail("malformed SCRAM client-final message");
    }
    const binding = unb64(attrs[0][1]);
    if (!binding || new TextDecoder().decode(binding) !== this.#gs2Header) {
      this.#fail("SCRAM channel binding check failed");
    }
    if (attrs[1][1] !== this.#nonce) this.#fail("SCRAM nonce mismatch");
    const proof = unb64(clientFinal.slice(at + 3));
    if (!proof || proof.length !== 32) this.#fail("malformed SCRAM proof");
    const v = this.#verifier;
    const authMessage = this.#authPrefix + withoutProof;
    const signature = hmac(v.storedKey, authMessage);
    const clientKey = proof.map((b, i) => b ^ signature[i]);
    if (!timingSafeEqual(sha256(clientKey), v.storedKey)) {
      this.#fail("password authentication failed", "28P01");
    }
    this.#state = "done";
    return `v=${b64(hmac(v.serverKey, authMessage))}`;
  }
}
