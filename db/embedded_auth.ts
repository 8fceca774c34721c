/**
 * Password authentication of the embedded server's clients, before anything
 * reaches PGlite: after the StartupMessage the server asks for SCRAM-SHA-256
 * (AuthenticationSASL), answers the SASLInitialResponse with
 * AuthenticationSASLContinue and, when the proof in the SASLResponse is
 * right, sends AuthenticationSASLFinal; only then is the startup packet
 * handed to the backend (which answers AuthenticationOk, ParameterStatus…,
 * ReadyForQuery). Any other message, a wrong mechanism, a wrong password or
 * a user other than `postgres` is a {@link ScramError} (SQLSTATE 28P01 or
 * 08P01) and the connection is closed.
 *
 * @example
 * ```ts
 * import { StartupAuth } from "./embedded_auth.ts";
 * import { ScramVerifier } from "./scram.ts";
 * const auth = new StartupAuth(ScramVerifier.fromPassword("secret"));
 * // auth.begin(startupPacket) → AuthenticationSASL; auth.step(message) → reply (+ done)
 * ```
 * @module
 */
import { MAX_SCRAM_MESSAGE_BYTES, ScramError, ScramExchange, type ScramVerifier } from "./scram.ts";
import { type FrontendMessage, message, readCString } from "./wire.ts";

/** The one user of the embedded database. */
export const EMBEDDED_USER = "postgres";
/** Largest message accepted while authenticating (SASL messages are small). */
export const MAX_AUTH_MESSAGE_BYTES: number = MAX_SCRAM_MESSAGE_BYTES + 64;
const MECHANISM = "SCRAM-SHA-256";
const T_PASSWORD = 0x70; // 'p': PasswordMessage, SASLInitialResponse, SASLResponse

const int32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n);
  return b;
};
const decoder = new TextDecoder("utf-8", { fatal: true });

function text(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new ScramError("SASL message is not UTF-8", "08P01");
  }
}

/**
 * The `user` parameter of a StartupMessage (protocol 3 packet with its 8-byte header).
 *
 * @example
 * ```ts
 * import { startupUser } from "./embedded_auth.ts";
 * import { startupMessage } from "./test_util.ts";
 * startupUser(startupMessage({ user: "postgres" })); // "postgres"
 * ```
 */
export function startupUser(packet: Uint8Array): string | undefined {
  let at = 8;
  while (at < packet.length && packet[at] !== 0) {
    const [key, afterKey] = readCString(packet, at);
    const [value, afterValue] = readCString(packet, afterKey);
    if (key === "user") return value;
    at = afterValue;
  }
  return undefined;
}

/**
 * The authentication state of one connection.
 *
 * @example
 * ```ts
 * import { StartupAuth } from "./embedded_auth.ts";
 * import { ScramVerifier } from "./scram.ts";
 * const auth = new StartupAuth(ScramVerifier.fromPassword("secret"));
 * console.log(auth.done); // false
 * ```
 */
export class StartupAuth {
  #exchange: ScramExchange;
  #user: string | undefined;
  #stage: "startup" | "initial" | "response" | "done" = "startup";

  /** Authenticates against the keys of `verifier`. */
  constructor(verifier: ScramVerifier) {
    this.#exchange = new ScramExchange(verifier);
  }

  /** Whether the client proved the password. */
  get done(): boolean {
    return this.#stage === "done";
  }

  /** Takes the StartupMessage; returns AuthenticationSASL. */
  begin(startup: Uint8Array): Uint8Array {
    if (this.#stage !== "startup") throw new ScramError("unexpected startup packet", "08P01");
    this.#user = startupUser(startup);
    this.#stage = "initial";
    return message("R", int32(10), MECHANISM, "");
  }

  /**
   * Takes one tagged message; returns the reply to send. After the reply to
   * the SASLResponse {@link done} is true. Throws {@link ScramError}.
   */
  step(m: FrontendMessage): Uint8Array {
    if (m.type !== T_PASSWORD || this.#stage === "startup" || this.#stage === "done") {
      throw new ScramError(`password authentication failed for user "${this.#user}"`, "28P01");
    }
    const body = m.bytes.subarray(5);
    if (this.#stage === "initial") {
      const [mechanism, at] = readCString(body, 0);
      if (mechanism !== MECHANISM || at + 4 > body.length) {
        // also what a cleartext PasswordMessage looks like
        throw new ScramError(`password authentication failed for user "${this.#user}"`, "28P01");
      }
      const len = new DataView(body.buffer, body.byteOffset + at, 4).getInt32(0);
      if (len < 0 || at + 4 + len !== body.length) {
        throw new ScramError("malformed SASLInitialResponse", "08P01");
      }
      const serverFirst = this.#exchange.start(text(body.subarray(at + 4)));
      this.#stage = "response";
      return message("R", int32(11), new TextEncoder().encode(serverFirst));
    }
    let serverFinal: string;
    try {
      serverFinal = this.#exchange.finish(text(body));
    } catch (e) {
      if (e instanceof ScramError && e.sqlState === "28P01") {
        throw new ScramError(`password authentication failed for user "${this.#user}"`, "28P01");
      }
      throw e;
    }
    if (this.#user !== EMBEDDED_USER) {
      throw new ScramError(`password authentication failed for user "${this.#user}"`, "28P01");
    }
    this.#stage = "done";
    return message("R", int32(12), new TextEncoder().encode(serverFinal));
  }
}
