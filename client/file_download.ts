/**
 * Receiving a file: fetch its chunks from the server a window at a time,
 * open each (its index and last flag are authenticated, so nothing can be
 * reordered, dropped or cut short), append the plaintext to
 * `downloads/.partial/<id>.part`, and only when every chunk is there and the
 * SHA-256 matches the sender's, move it to a fresh, sanitised name in
 * `downloads/` (`name.ext`, `name (1).ext`, …). A download cut by a
 * disconnect or a restart resumes from the whole chunks already in the
 * `.part` file; a file that fails verification is deleted and reported as
 * `TRANSFER_FAILED`, never presented as complete.
 *
 * @example
 * ```ts
 * import { downloadFile } from "@fastchat/client/file_download";
 * declare const channel: import("@fastchat/client/file_download").DownloadChannel;
 * declare const description: import("@fastchat/client/message_content").FileDescription;
 * const got = await downloadFile(description, "/home/me/.fastchat/alice/downloads", channel);
 * got.path; // ".../downloads/photo.png"
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  constantTimeEqual,
  FILE_CHUNK_BYTES,
  fileChunkCount,
  fileKeyFrom,
  fromBase64Url,
  openFileChunk,
} from "@fastchat/lib/crypto";
import { FastChatError } from "@fastchat/lib/errors";
import { claimDownloadPath } from "./download_name.ts";
import { type FileType, SNIFF_BYTES, sniffFileType } from "./file_type.ts";
import { readFull } from "./file_upload.ts";
import type { FileDescription } from "./message_content.ts";

/**
 * The server side of a download, as the client sees it.
 *
 * @example
 * ```ts
 * const ch: DownloadChannel = { fetch: () => Promise.resolve([]) };
 * ```
 */
export interface DownloadChannel {
  /** Up to `count` sealed chunks of `file` from `from` on, in order. */
  fetch(file: string, from: number, count: number): Promise<{ idx: number; data: Uint8Array }[]>;
}

/**
 * A verified download.
 *
 * @example
 * ```ts
 * const d: DownloadedFile = { path: "/x/a.png", bytes: 10, sha256: "ab…", type: { mime: "image/png" } };
 * ```
 */
export interface DownloadedFile {
  /** Where it was written. */
  path: string;
  /** Size in bytes. */
  bytes: number;
  /** SHA-256, hex. */
  sha256: string;
  /** Type sniffed from the content. */
  type: FileType;
}

/**
 * Options of {@link downloadFile}.
 *
 * @example
 * ```ts
 * const o: DownloadOptions = { window: 8 };
 * ```
 */
export interface DownloadOptions {
  /** Chunks fetched per request (default 8: 2 MiB). */
  window?: number;
  /** Called after each written chunk with bytes done and total. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

function failed(why: string, cause?: unknown): FastChatError {
  return new FastChatError("TRANSFER_FAILED", why, undefined, { cause });
}

/** Downloads and verifies `d` into `dir`; see the module doc. */
export async function downloadFile(
  d: FileDescription,
  dir: string,
  channel: DownloadChannel,
  opts: DownloadOptions = {},
): Promise<DownloadedFile> {
  const fk = fileKeyFrom(d.key, fromBase64Url(d.file));
  const chunks = fileChunkCount(d.bytes);
  if (chunks !== d.chunks) throw failed("the file's size and chunk count disagree");
  const partialDir = join(dir, ".partial");
  await Deno.mkdir(partialDir, { recursive: true, mode: 0o700 });
  const partPath = join(partialDir, `${d.file}.part`);
  const part = await Deno.open(partPath, { read: true, write: true, create: true, mode: 0o600 });
  const hash = createHash("sha256");
  let head = new Uint8Array(0);
  let next = 0;
  try {
    // Resume: keep the whole chunks already written, re-hashing them.
    const have = Math.min(Math.floor((await part.stat()).size / FILE_CHUNK_BYTES), chunks - 1);
    await part.truncate(have * FILE_CHUNK_BYTES);
    const buf = new Uint8Array(FILE_CHUNK_BYTES);
    for (; next < have; next++) {
      if (await readFull(part, buf) !== buf.length) {
        throw failed("the partial download shrank while resuming");
      }
      hash.update(buf);
      if (next === 0) head = buf.slice(0, SNIFF_BYTES);
    }
    await part.seek(have * FILE_CHUNK_BYTES, Deno.SeekMode.Start);
    const window = Math.max(1, opts.window ?? 8);
    let done = have * FILE_CHUNK_BYTES;
    while (next < chunks) {
      const got = await channel.fetch(d.file, next, Math.min(window, chunks - next));
      if (got.length === 0) throw failed(`the server has no chunk ${next} of ${d.name}`);
      for (const c of got) {
        if (c.idx !== next) throw failed(`expected chunk ${next}, got ${c.idx}`);
        let plain: Uint8Array;
        try {
          plain = openFileChunk(fk, next, next === chunks - 1, c.data);
        } catch (e) {
          throw failed(`chunk ${next} of ${d.name} failed authentication`, e);
        }
        const expected = Math.min(FILE_CHUNK_BYTES, d.bytes - next * FILE_CHUNK_BYTES);
        if (plain.length !== expected) throw failed(`chunk ${next} has the wrong size`);
        let off = 0;
        while (off < plain.length) off += await part.write(plain.subarray(off));
        hash.update(plain);
        if (next === 0) head = plain.slice(0, SNIFF_BYTES);
        done += plain.length;
        opts.onProgress?.(done, d.bytes);
        next++;
        if (next === chunks) break;
      }
    }
    await part.syncData();
  } catch (e) {
    part.close();
    if (e instanceof FastChatError && e.code === "TRANSFER_FAILED") {
      await Deno.remove(partPath).catch(() => {}); // already gone is fine: nothing to keep
    }
    throw e;
  }
  part.close();
  const digest = new Uint8Array(hash.digest());
  if (!constantTimeEqual(digest, d.sha256)) {
    await Deno.remove(partPath);
    throw failed(`${d.name} does not match the sender's SHA-256; it was discarded`);
  }
  const path = await claimDownloadPath(dir, d.name);
  await Deno.rename(partPath, path);
  return {
    path,
    bytes: d.bytes,
    sha256: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
    type: sniffFileType(head, d.name),
  };
}
