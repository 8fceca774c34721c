/**
 * File transfers of one client over its server connection: uploads (a
 * window of `chunk` requests; resumed after a lost connection from the
 * server's count) and downloads (`fetch` requests whose `chunk` frames are
 * collected per file; at most two downloads at a time), with progress events
 * for transfers of 1 MiB or more and a `file` event once a download is
 * complete and verified.
 *
 * @example
 * ```ts
 * import { FileTransfers } from "@fastchat/client/file_transfers";
 * declare const transfers: FileTransfers;
 * const { description } = await transfers.upload("/tmp/photo.png");
 * ```
 * @module
 */
import { basename, join } from "node:path";
import { newFileKey, toBase64Url } from "@fastchat/lib/crypto";
import { FastChatError } from "@fastchat/lib/errors";
import { MAX_FETCH_CHUNKS, type ServerFrameOf } from "@fastchat/lib/protocol";
import type { RequestFrame } from "./session_connector.ts";
import { Semaphore } from "@fastchat/lib/semaphore";
import type { ClientEvent } from "./events.ts";
import { downloadFile } from "./file_download.ts";
import { sniffFileType } from "./file_type.ts";
import { uploadFile } from "./file_upload.ts";
import type { FileDescription } from "./message_content.ts";
import { PROGRESS_MIN_BYTES } from "./transfer_bar.ts";

/**
 * What {@link FileTransfers} needs from the client.
 *
 * @example
 * ```ts
 * declare const deps: FileTransfersDeps;
 * deps.downloads(); // "/home/me/.fastchat/alice/downloads"
 * ```
 */
export interface FileTransfersDeps {
  /** Sends a request (retried across reconnects) and resolves with the reply. */
  request(f: RequestFrame): Promise<ServerFrameOf<"ok">>;
  /** Emits an event. */
  emit(e: ClientEvent): void;
  /** The downloads folder of the logged-in user. */
  downloads(): string;
}

const RESUMABLE = new Set(["CONNECTION_CLOSED", "NOT_CONNECTED", "BAD_REQUEST", "TIMEOUT"]);

/** Uploads and downloads of one client. */
export class FileTransfers {
  readonly #d: FileTransfersDeps;
  readonly #incoming = new Map<string, { idx: number; data: Uint8Array }[]>();
  readonly #downloads = new Semaphore(2);
  readonly #downloading = new Set<Promise<void>>();

  /** Uses `deps` for requests, events and paths. */
  constructor(deps: FileTransfersDeps) {
    this.#d = deps;
  }

  /** A `chunk` frame arrived (answering one of our fetches). */
  onChunk(f: ServerFrameOf<"chunk">): void {
    this.#incoming.get(f.file)?.push({ idx: f.idx, data: f.data });
  }

  /**
   * Uploads `path` under a fresh key, resuming after lost connections (three
   * attempts); resolves with the description the file message carries.
   */
  async upload(path: string): Promise<{ description: FileDescription }> {
    const fk = newFileKey();
    const name = basename(path);
    const progress = this.#progress(name, "up");
    for (let attempt = 1;; attempt++) {
      try {
        const up = await uploadFile(path, fk, {
          open: async (file, bytes, chunks) =>
            (await this.#d.request({ t: "upload", file, bytes, chunks })).have ?? 0,
          put: (file, idx, data) => this.#d.request({ t: "chunk", file, idx, data }),
        }, { onProgress: (done, total) => progress(toBase64Url(fk.id), done, total) });
        return {
          description: {
            file: up.file,
            key: fk.raw,
            name,
            bytes: up.bytes,
            chunks: up.chunks,
            sha256: up.sha256,
            mime: sniffFileType(up.head, name).mime,
          },
        };
      } catch (e) {
        const err = FastChatError.from(e);
        if (attempt >= 3 || !RESUMABLE.has(err.code)) throw err;
      }
    }
  }

  /** Downloads a received file into the downloads folder and emits `file`. */
  download(
    m: { id: string; from: string; group?: string; file: FileDescription },
  ): Promise<void> {
    const d = this.#downloads.run(() => this.#download(m));
    const tracked = d.catch(() => {/* reported by the caller */}).finally(() =>
      this.#downloading.delete(tracked)
    );
    this.#downloading.add(tracked);
    return d;
  }

  /** Downloads started (running or waiting for a slot) and not yet ended. */
  get downloading(): number {
    return this.#downloading.size;
  }

  /** Resolves once no download is left, including any started meanwhile. */
  async downloadsSettled(): Promise<void> {
    while (this.#downloading.size > 0) await Promise.all(this.#downloading);
  }

  async #download(
    m: { id: string; from: string; group?: string; file: FileDescription },
  ): Promise<void> {
    {
      const progress = this.#progress(m.file.name, "down");
      let got;
      for (let attempt = 1;; attempt++) {
        try {
          got = await downloadFile(m.file, this.#d.downloads(), {
            fetch: (file, from, count) => this.#fetch(file, from, count),
          }, {
            window: MAX_FETCH_CHUNKS,
            onProgress: (done, total) => progress(m.id, done, total),
          });
          break;
        } catch (e) {
          const err = FastChatError.from(e);
          if (attempt >= 3 || !RESUMABLE.has(err.code)) throw err;
        }
      }
      const ev: ClientEvent = {
        event: "file",
        id: m.id,
        from: m.from,
        name: basename(got.path),
        path: got.path,
        bytes: got.bytes,
        sha256: got.sha256,
        mime: got.type.mime,
      };
      if (m.group) ev.group = m.group;
      if (got.type.image) ev.image = got.type.image;
      this.#d.emit(ev);
    }
  }

  async #fetch(
    file: string,
    from: number,
    count: number,
  ): Promise<{ idx: number; data: Uint8Array }[]> {
    const box: { idx: number; data: Uint8Array }[] = [];
    this.#incoming.set(file, box);
    try {
      await this.#d.request({ t: "fetch", file, from, count });
      return box;
    } finally {
      this.#incoming.delete(file);
    }
  }

  #progress(name: string, direction: "up" | "down") {
    let last = 0;
    let finished = false;
    return (id: string, done: number, total: number) => {
      if (total < PROGRESS_MIN_BYTES || finished) return;
      const now = Date.now();
      if (done < total && now - last < 200) return;
      last = now;
      finished = done >= total;
      this.#d.emit({ event: "progress", id, name, done, total, direction });
    };
  }
}

/** Where downloads of the user whose home is `dir` go. */
export function downloadsDir(dir: string): string {
  return join(dir, "downloads");
}
