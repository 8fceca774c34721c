/**
 * Sending a file: read it from disk chunk by chunk, hash it, seal each chunk
 * under a fresh file key and hand the chunks to the server through an
 * {@link UploadChannel}, keeping at most `window` chunks unconfirmed, so the
 * file is never held in memory whole (memory is `window` chunks). An upload
 * cut by a disconnect is resumed by calling {@link uploadFile} again with the
 * same key: the server says how many chunks it has, those are read and
 * hashed again but not sent.
 *
 * @example
 * ```ts
 * import { uploadFile } from "@fastchat/client/file_upload";
 * import { newFileKey } from "@fastchat/lib/crypto";
 * declare const channel: import("@fastchat/client/file_upload").UploadChannel;
 * const done = await uploadFile("/tmp/photo.png", newFileKey(), channel);
 * done.sha256; // 32 bytes, for the file message
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import {
  FILE_CHUNK_BYTES,
  FILE_CHUNK_OVERHEAD,
  fileChunkCount,
  type FileKey,
  sealFileChunk,
  toBase64Url,
} from "@fastchat/lib/crypto";
import { FastChatError } from "@fastchat/lib/errors";

/**
 * The server side of an upload, as the client sees it.
 *
 * @example
 * ```ts
 * const stored: number[] = [];
 * const ch: UploadChannel = {
 *   open: () => Promise.resolve(0),
 *   put: (_f, idx) => Promise.resolve(stored.push(idx)),
 * };
 * ```
 */
export interface UploadChannel {
  /** Opens (or reopens) the upload; resolves to the chunks the server already has. */
  open(file: string, bytes: number, chunks: number): Promise<number>;
  /** Sends chunk `idx`; resolves once the server stored it. */
  put(file: string, idx: number, data: Uint8Array): Promise<unknown>;
}

/**
 * A finished upload: what the file message must carry.
 *
 * @example
 * ```ts
 * const u: UploadedFile = { file: "AbCdEfGhIjKlMnOpQrStUv", bytes: 5, chunks: 1, sha256: new Uint8Array(32), head: new Uint8Array(5) };
 * ```
 */
export interface UploadedFile {
  /** Server-side id (base64url of the key's id). */
  file: string;
  /** Plaintext size. */
  bytes: number;
  /** Chunk count. */
  chunks: number;
  /** SHA-256 of the plaintext. */
  sha256: Uint8Array;
  /** The first chunk's plaintext (for type sniffing), at most one chunk. */
  head: Uint8Array;
}

/**
 * Options of {@link uploadFile}.
 *
 * @example
 * ```ts
 * const o: UploadOptions = { window: 8, onProgress: (done, total) => console.log(done, total) };
 * ```
 */
export interface UploadOptions {
  /** Chunks in flight at most (default 8: 2 MiB). */
  window?: number;
  /** Called after each stored chunk with plaintext bytes done and total. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** Largest file accepted before anything is sent (the server checks too). */
  maxBytes?: number;
}

/**
 * Reads exactly `buf.length` bytes unless the file ends first; returns the
 * count (shared by uploads and resumed downloads).
 *
 * @example
 * ```ts
 * import { readFull } from "@fastchat/client/file_upload";
 * declare const f: Deno.FsFile;
 * const n = await readFull(f, new Uint8Array(4096)); // < 4096 only at end of file
 * ```
 */
export async function readFull(f: Deno.FsFile, buf: Uint8Array): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const n = await f.read(buf.subarray(got));
    if (n === null) break;
    got += n;
  }
  return got;
}

/**
 * Uploads `path` under `fk`; resolves when every chunk is stored.
 * `FILE_NOT_FOUND` if the file cannot be read, `FILE_TOO_LARGE` above
 * `maxBytes`, `TRANSFER_FAILED` if it changes size while being read.
 */
export async function uploadFile(
  path: string,
  fk: FileKey,
  channel: UploadChannel,
  opts: UploadOptions = {},
): Promise<UploadedFile> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { read: true });
  } catch (e) {
    throw new FastChatError("FILE_NOT_FOUND", `cannot read ${path}`, undefined, { cause: e });
  }
  try {
    const info = await f.stat();
    if (!info.isFile) throw new FastChatError("FILE_NOT_FOUND", `${path} is not a file`);
    const size = info.size;
    if (opts.maxBytes !== undefined && size > opts.maxBytes) {
      throw new FastChatError("FILE_TOO_LARGE", `${path} is larger than ${opts.maxBytes} bytes`, {
        limit: opts.maxBytes,
      });
    }
    const chunks = fileChunkCount(size);
    const file = toBase64Url(fk.id);
    const have = await channel.open(file, size + chunks * FILE_CHUNK_OVERHEAD, chunks);
    const window = Math.max(1, opts.window ?? 8);
    const hash = createHash("sha256");
    const inFlight = new Set<Promise<unknown>>();
    let failure: unknown;
    let head = new Uint8Array(0);
    let done = Math.min(have, chunks) * FILE_CHUNK_BYTES;
    for (let idx = 0; idx < chunks; idx++) {
      const buf = new Uint8Array(Math.min(FILE_CHUNK_BYTES, size - idx * FILE_CHUNK_BYTES));
      if (await readFull(f, buf) !== buf.length) {
        throw new FastChatError("TRANSFER_FAILED", `${path} changed while it was being sent`);
      }
      hash.update(buf);
      if (idx === 0) head = buf;
      if (idx < have) continue;
      while (inFlight.size >= window) await Promise.race(inFlight);
      if (failure) throw failure;
      const last = idx === chunks - 1;
      const p: Promise<unknown> = channel.put(file, idx, sealFileChunk(fk, idx, last, buf)).then(
        () => {
          inFlight.delete(p);
          done += buf.length;
          opts.onProgress?.(Math.min(done, size), size);
        },
        (e) => {
          inFlight.delete(p);
          failure ??= e;
        },
      );
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
    if (await readFull(f, new Uint8Array(1)) !== 0) {
      throw new FastChatError("TRANSFER_FAILED", `${path} changed while it was being sent`);
    }
    opts.onProgress?.(size, size);
    return { file, bytes: size, chunks, sha256: new Uint8Array(hash.digest()), head };
  } finally {
    f.close();
  }
}
