/**
 * Test helpers of the db package only: a raw PostgreSQL wire-protocol
 * client (with SCRAM-SHA-256) for exercising the embedded server below
 * postgres.js. Not part of the API; throwaway databases are in
 * `@fastchat/testing`.
 *
 * @example
 * ```ts
 * import { RawPgClient, types } from "./test_util.ts";
 * const c = await RawPgClient.connect(7432, "the-password");
 * console.log(types(await c.query("select 1"))); // "TDCZ"
 * c.close();
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import { closeIfOpen } from "@fastchat/lib/already_gone";
import { message, queryMessage } from "./wire.ts";

/** One backend message read by {@link RawPgClient}. */
export interface BackendMessage {
  /** Tag as a one-letter string, e.g. `"Z"`. */
  type: string;
  /** Body without the header. */
  body: Uint8Array;
}

/**
 * A minimal PostgreSQL protocol client over `Deno.connect`, for tests that
 * need exact control of what goes on the wire.
 *
 * @example
 * ```ts
 * import { RawPgClient } from "./test_util.ts";
 * import { queryMessage } from "./wire.ts";
 * const c = await RawPgClient.connect(7432, "the-password");
 * c.send(queryMessage("select 1"));
 * console.log((await c.readUntil("Z")).map((m) => m.type).join("")); // "TDCZ"
 * c.close();
 * ```
 */
export class RawPgClient {
  #conn: Deno.TcpConn;
  #buf = new Uint8Array(0);
  #eof = false;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects; with a `password` (false: nothing sent), also completes the startup handshake. */
  static async connect(port: number, password: string | false): Promise<RawPgClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    const c = new RawPgClient(conn);
    if (password !== false) await c.handshake(password);
    return c;
  }

  /**
   * Sends a StartupMessage for `postgres`, proves `password` with
   * SCRAM-SHA-256 and reads up to ReadyForQuery; returns what came after
   * the SASL exchange. Throws when the server does not ask for SCRAM or
   * answers with an error.
   */
  async handshake(password: string, user = "postgres"): Promise<BackendMessage[]> {
    await this.authenticate(password, user);
    return await this.readUntil("Z");
  }

  /**
   * The first part of {@link RawPgClient.handshake}: sends the
   * StartupMessage and proves `password`, up to the server's SASL final
   * message (what follows, up to ReadyForQuery, is left unread).
   */
  async authenticate(password: string, user = "postgres"): Promise<void> {
    this.send(startupMessage({ user, database: "postgres" }));
    const scram = new ScramClient(password);
    await this.#expectAuth(10);
    this.send(scram.initialResponse());
    const serverFirst = new TextDecoder().decode((await this.#expectAuth(11)).subarray(4));
    this.send(scram.response(serverFirst));
    const serverFinal = new TextDecoder().decode((await this.#expectAuth(12)).subarray(4));
    if (!scram.verifyServer(serverFinal)) throw new Error("server signature mismatch");
  }

  async #expectAuth(kind: number): Promise<Uint8Array> {
    const m = await this.read();
    if (!m) throw new Error(`connection closed while waiting for authentication ${kind}`);
    const got = m.type === "R" ? new DataView(m.body.buffer).getInt32(0) : undefined;
    if (got !== kind) {
      throw new Error(
        `expected authentication ${kind}, got ${m.type}${got ?? ""} ${
          m.type === "E" ? errorCode(m.body) : ""
        }`,
      );
    }
    return m.body;
  }

  /** Writes bytes (fire and forget; the socket buffers). */
  send(...parts: Uint8Array[]): void {
    for (const p of parts) this.#writeAll(p);
  }

  #pending: Promise<void> = Promise.resolve();
  #writeAll(bytes: Uint8Array): void {
    this.#pending = this.#pending.then(async () => {
      let at = 0;
      while (at < bytes.length) at += await this.#conn.write(bytes.subarray(at));
    }).catch(() => {
      // A write fails only once the server has closed the socket, which many
      // of these tests provoke on purpose; the reader sees that close.
    });
  }

  /** Reads raw bytes until at least `n` are buffered; returns and consumes them. */
  async readBytes(n: number): Promise<Uint8Array> {
    while (this.#buf.length < n) if (!await this.#fill()) throw new Error("connection closed");
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.slice(n);
    return out;
  }

  /** Reads messages up to and including the first of type `tag`. */
  async readUntil(tag: string): Promise<BackendMessage[]> {
    const out: BackendMessage[] = [];
    while (true) {
      const m = await this.read();
      if (!m) throw new Error(`connection closed before ${tag}: got ${types(out)}`);
      out.push(m);
      if (m.type === tag) return out;
    }
  }

  /** Reads one message, or null at end of stream. */
  async read(): Promise<BackendMessage | null> {
    while (true) {
      if (this.#buf.length >= 5) {
        const len = new DataView(this.#buf.buffer, this.#buf.byteOffset).getInt32(1);
        if (this.#buf.length >= len + 1) {
          const m = { type: String.fromCharCode(this.#buf[0]), body: this.#buf.slice(5, len + 1) };
          this.#buf = this.#buf.slice(len + 1);
          return m;
        }
      }
      if (!await this.#fill()) return null;
    }
  }

  /** Resolves when the server closes the connection (draining what it sent). */
  async closedByServer(): Promise<BackendMessage[]> {
    const rest: BackendMessage[] = [];
    for (let m = await this.read(); m; m = await this.read()) rest.push(m);
    return rest;
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const chunk = new Uint8Array(64 * 1024);
    let n: number | null;
    try {
      n = await this.#conn.read(chunk);
    } catch {
      n = null;
    }
    if (n === null) {
      this.#eof = true;
      return false;
    }
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = next;
    return true;
  }

  /** Closes the socket abruptly (no Terminate). */
  close(): void {
    closeIfOpen(this.#conn);
  }

  /** Runs a simple query and returns the messages up to ReadyForQuery. */
  async query(sql: string): Promise<BackendMessage[]> {
    this.send(queryMessage(sql));
    return await this.readUntil("Z");
  }
}

/**
 * The tags of `msgs` joined, e.g. `"TDCZ"`.
 *
 * @example
 * ```ts
 * import { types } from "./test_util.ts";
 * types([{ type: "Z", body: new Uint8Array(1) }]); // "Z"
 * ```
 */
export function types(msgs: BackendMessage[]): string {
  return msgs.map((m) => m.type).join("");
}

/**
 * The SQLSTATE (`C` field) of an ErrorResponse body.
 *
 * @example
 * ```ts
 * import { errorCode } from "./test_util.ts";
 * errorCode(new TextEncoder().encode("SERROR\0C22012\0\0")); // "22012"
 * ```
 */
export function errorCode(body: Uint8Array): string | undefined {
  for (const field of new TextDecoder().decode(body).split("\0")) {
    if (field.startsWith("C")) return field.slice(1);
  }
  return undefined;
}

/**
 * A protocol 3.0 StartupMessage.
 *
 * @example
 * ```ts
 * import { startupMessage } from "./test_util.ts";
 * const s = startupMessage({ user: "postgres" });
 * ```
 */
export function startupMessage(params: Record<string, string>): Uint8Array {
  const body = Object.entries(params).map(([k, v]) => `${k}\0${v}\0`).join("") + "\0";
  const text = new TextEncoder().encode(body);
  const out = new Uint8Array(8 + text.length);
  const view = new DataView(out.buffer);
  view.setInt32(0, out.length);
  view.setInt32(4, 196608);
  out.set(text, 8);
  return out;
}

/**
 * Bind (no parameters) + Execute of the unnamed portal, for raw tests.
 *
 * @example
 * ```ts
 * import { bindExecute } from "./test_util.ts";
 * const bytes = bindExecute("s1");
 * ```
 */
export function bindExecute(statement = ""): Uint8Array[] {
  return [
    message("B", "", statement, new Uint8Array(6)),
    message("E", "", new Uint8Array(4)),
  ];
}

/**
 * The client side of SCRAM-SHA-256 as postgres.js does it (gs2 header `n,,`),
 * for raw tests.
 *
 * @example
 * ```ts
 * import { ScramClient } from "./test_util.ts";
 * const c = new ScramClient("pencil");
 * const first = c.initialResponse(); // a SASLInitialResponse message
 * ```
 */
export class ScramClient {
  readonly nonce: string;
  #password: string;
  #serverSignature = "";

  constructor(password: string, nonce = btoa(crypto.randomUUID()).slice(0, 24)) {
    this.#password = password;
    this.nonce = nonce;
  }

  /** `n=*,r=<nonce>`. */
  get clientFirstBare(): string {
    return `n=*,r=${this.nonce}`;
  }

  /** The SASLInitialResponse message. */
  initialResponse(mechanism = "SCRAM-SHA-256"): Uint8Array {
    const data = new TextEncoder().encode(`n,,${this.clientFirstBare}`);
    const len = new Uint8Array(4);
    new DataView(len.buffer).setInt32(0, data.length);
    return message("p", mechanism, len, data);
  }

  /** The client-final message for `serverFirst` (as text). */
  clientFinal(serverFirst: string): string {
    const attrs = Object.fromEntries(serverFirst.split(",").map((a) => [a[0], a.slice(2)]));
    const salt = Uint8Array.from(atob(attrs.s), (c) => c.charCodeAt(0));
    const salted = pbkdf2Sync(this.#password, salt, Number(attrs.i), 32, "sha256");
    const clientKey = createHmac("sha256", salted).update("Client Key").digest();
    const storedKey = createHash("sha256").update(clientKey).digest();
    const withoutProof = `c=biws,r=${attrs.r}`;
    const auth = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = createHmac("sha256", storedKey).update(auth).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
    const serverKey = createHmac("sha256", salted).update("Server Key").digest();
    this.#serverSignature = createHmac("sha256", serverKey).update(auth).digest("base64");
    return `${withoutProof},p=${proof.toString("base64")}`;
  }

  /** The SASLResponse message for `serverFirst`. */
  response(serverFirst: string): Uint8Array {
    return message("p", new TextEncoder().encode(this.clientFinal(serverFirst)));
  }

  /** Whether `serverFinal` (`v=…`) carries the expected server signature. */
  verifyServer(serverFinal: string): boolean {
    return serverFinal === `v=${this.#serverSignature}`;
  }
}
