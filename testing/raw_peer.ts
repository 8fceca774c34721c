/**
 * A raw protocol peer: a TCP connection that writes arbitrary bytes or
 * frames (unchecked by the client's encoder) and records every frame the
 * server sends back, for tests of how servers treat bad input.
 *
 * @example
 * ```ts
 * import { RawPeer } from "@fastchat/testing";
 * declare const port: number;
 * const peer = await RawPeer.connect("127.0.0.1", port);
 * await peer.send({ t: "hello", v: 99 });
 * const err = await peer.waitFrame((f) => f.t === "error");
 * peer.close();
 * ```
 * @module
 */
import { encodeFrame, FrameDecoder } from "@fastchat/lib/frame";
import { decodeServerFrame, type ServerFrame } from "@fastchat/lib/protocol";
import { msgpackCodec } from "@fastchat/lib/msgpack_codec";

/** A raw protocol peer for testing how servers treat bad input. */
export class RawPeer {
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<void>;
  #waiters: (() => void)[] = [];
  #conn: Deno.TcpConn;
  #ended = false;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.closed = this.#read();
  }

  /** Connects to `host:port`. */
  static async connect(host: string, port: number): Promise<RawPeer> {
    return new RawPeer(await Deno.connect({ hostname: host, port }));
  }

  /** Whether the server closed the connection. */
  get ended(): boolean {
    return this.#ended;
  }

  async #read(): Promise<void> {
    const dec = new FrameDecoder(16 * 1024 * 1024);
    const buf = new Uint8Array(65536);
    try {
      while (true) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        for (const f of dec.push(buf.subarray(0, n))) this.frames.push(decodeServerFrame(f));
        for (const w of this.#waiters.splice(0)) w();
      }
    } catch { /* reset by the server: the end of the stream, as above */ }
    this.#ended = true;
    this.close(); // the server is done with it: release our end too
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Writes raw bytes (errors ignored: the server may have closed). */
  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    try {
      while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
    } catch { /* closed by server */ }
  }

  /** Sends a frame encoded as MessagePack, without client-side validation. */
  send(frame: Record<string, unknown>): Promise<void> {
    return this.write(encodeFrame(rawPackr.pack(frame)));
  }

  /** Waits for the first frame matching `pred`. */
  async waitFrame(pred: (f: ServerFrame) => boolean, timeoutMs = 15_000): Promise<ServerFrame> {
    return (await this.waitFrames(pred, 1, timeoutMs))[0];
  }

  /** Waits until `n` frames match `pred`. */
  async waitFrames(
    pred: (f: ServerFrame) => boolean,
    n: number,
    timeoutMs = 15_000,
  ): Promise<ServerFrame[]> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const got = this.frames.filter(pred);
      if (got.length >= n) return got;
      const left = deadline - Date.now();
      if (left <= 0 || this.#ended) {
        const seen = this.frames.map((f) => f.t === "error" ? `error:${f.code}` : f.t);
        throw new Error(
          `${got.length}/${n} matching frames (ended=${this.#ended}); got ${
            seen.slice(-20).join(",")
          }`,
        );
      }
      let t: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        t = setTimeout(r, left);
      });
      clearTimeout(t);
    }
  }

  /** Closes the socket. */
  close(): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}

const rawPackr = msgpackCodec();
