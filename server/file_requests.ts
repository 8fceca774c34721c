/**
 * Answers a client's file frames: `upload` opens (or resumes) an upload,
 * `chunk` stores the next chunk (the reply counts stored chunks), `fetch`
 * streams up to a few chunks to a recipient holding a grant, then replies.
 * Each request is handled before the next frame of that connection is read,
 * so a server holds at most one chunk per uploading connection, and a fetch
 * waits for the connection's queue to drain before reading more chunks.
 *
 * @example
 * ```ts
 * import { FileRequests } from "@fastchat/server/file_requests";
 * import type { FileStore } from "@fastchat/server/file_store";
 * declare const store: FileStore;
 * const files = new FileRequests(store);
 * ```
 * @module
 */
import type { ClientFrameOf, ServerFrame } from "@fastchat/lib/protocol";
import type { FileStore } from "./file_store.ts";

/**
 * The connection a file request came on.
 *
 * @example
 * ```ts
 * const c: FileConnection = { user: "bob", send: () => true, congested: false, writable: () => Promise.resolve() };
 * ```
 */
export interface FileConnection {
  /** The authenticated user. */
  readonly user: string;
  /** Queues a frame. */
  send(f: ServerFrame): boolean;
  /** Whether the outbound queue is over its mark. */
  readonly congested: boolean;
  /** Resolves when the outbound queue has room. */
  writable(): Promise<void>;
}

/** Serves `upload`, `chunk` and `fetch`. */
export class FileRequests {
  readonly #store: FileStore;

  /** Stores and reads through `store`. */
  constructor(store: FileStore) {
    this.#store = store;
  }

  /** The file store (for attaching files to direct messages). */
  get store(): FileStore {
    return this.#store;
  }

  /** Handles one file frame from `c`. */
  async handle(
    c: FileConnection,
    f: ClientFrameOf<"upload" | "chunk" | "fetch">,
  ): Promise<void> {
    if (f.t === "upload") {
      const have = await this.#store.open(c.user, f.file, f.bytes, f.chunks);
      c.send({ t: "ok", rid: f.rid, have });
      return;
    }
    if (f.t === "chunk") {
      const have = await this.#store.putChunk(c.user, f.file, f.idx, f.data);
      c.send({ t: "ok", rid: f.rid, have });
      return;
    }
    if (c.congested) await c.writable();
    const chunks = await this.#store.chunks(c.user, f.file, f.from, f.count);
    for (const ch of chunks) c.send({ t: "chunk", file: f.file, idx: ch.idx, data: ch.data });
    c.send({ t: "ok", rid: f.rid, have: chunks.length });
  }
}
