/** uploadFile → a store of sealed chunks → downloadFile, with cuts, resumes and tampering. */
import { expect } from "expect";
import { codeOf } from "@fastchat/testing";
import { createHash } from "node:crypto";
import { FILE_CHUNK_BYTES, newFileKey } from "@fastchat/lib/crypto";
import { FastChatError } from "@fastchat/lib/errors";
import { type DownloadChannel, downloadFile } from "./file_download.ts";
import { type UploadChannel, uploadFile } from "./file_upload.ts";
import type { FileDescription } from "./message_content.ts";

/** The server's part, in memory: ordered chunks per file. */
class ChunkShelf implements UploadChannel, DownloadChannel {
  files = new Map<string, Uint8Array[]>();
  puts = 0;
  failPutAt = -1;
  failFetchFrom = -1;
  maxInFlight = 0;
  #inFlight = 0;
  open(file: string): Promise<number> {
    if (!this.files.has(file)) this.files.set(file, []);
    return Promise.resolve(this.files.get(file)!.length);
  }
  async put(file: string, idx: number, data: Uint8Array): Promise<number> {
    this.#inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight);
    await Promise.resolve();
    this.#inFlight--;
    if (this.puts++ === this.failPutAt) throw new FastChatError("CONNECTION_CLOSED", "cut");
    const have = this.files.get(file)!;
    if (idx !== have.length) throw new Error(`out of order: ${idx} after ${have.length}`);
    have.push(data);
    return have.length;
  }
  fetch(file: string, from: number, count: number) {
    if (this.failFetchFrom >= 0 && from >= this.failFetchFrom) {
      this.failFetchFrom = -1;
      return Promise.reject(new FastChatError("CONNECTION_CLOSED", "cut"));
    }
    const have = this.files.get(file) ?? [];
    return Promise.resolve(
      have.slice(from, from + count).map((data, i) => ({ idx: from + i, data })),
    );
  }
}

async function withDirs(fn: (src: string, downloads: string) => Promise<void>) {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/downloads`);
    await fn(root, `${root}/downloads`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

function describe(
  fk: ReturnType<typeof newFileKey>,
  up: Awaited<ReturnType<typeof uploadFile>>,
  name: string,
): FileDescription {
  return {
    file: up.file,
    key: fk.raw,
    name,
    bytes: up.bytes,
    chunks: up.chunks,
    sha256: up.sha256,
    mime: "application/octet-stream",
  };
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

Deno.test("files of every size round-trip with identical SHA-256", async () => {
  await withDirs(async (src, downloads) => {
    for (const size of [0, 1, FILE_CHUNK_BYTES, FILE_CHUNK_BYTES * 3 + 12345]) {
      const data = crypto.getRandomValues(new Uint8Array(Math.min(size, 65536)));
      const full = new Uint8Array(size);
      for (let o = 0; o < size; o += data.length) {
        full.set(data.subarray(0, Math.min(data.length, size - o)), o);
      }
      await Deno.writeFile(`${src}/in.bin`, full);
      const shelf = new ChunkShelf();
      const fk = newFileKey();
      const progress: number[] = [];
      const up = await uploadFile(`${src}/in.bin`, fk, shelf, {
        window: 2,
        onProgress: (d) => progress.push(d),
      });
      expect(shelf.maxInFlight).toBeLessThanOrEqual(2);
      expect(progress.at(-1)).toBe(size);
      const got = await downloadFile(describe(fk, up, "../../in.bin"), downloads, shelf);
      expect(got.path.startsWith(`${downloads}/in`)).toBe(true);
      expect(got.sha256).toBe(sha(full));
      expect(sha(await Deno.readFile(got.path))).toBe(sha(full));
    }
    // Four downloads of "in.bin": nothing overwritten.
    expect([...Deno.readDirSync(downloads)].map((e) => e.name).sort()).toEqual(
      [".partial", "in (1).bin", "in (2).bin", "in (3).bin", "in.bin"],
    );
  });
});

Deno.test("a cut upload resumes from the chunks the server has", async () => {
  await withDirs(async (src, downloads) => {
    const full = crypto.getRandomValues(new Uint8Array(60_000));
    const big = new Uint8Array(FILE_CHUNK_BYTES * 4);
    for (let o = 0; o < big.length; o += full.length) {
      big.set(full.subarray(0, Math.min(full.length, big.length - o)), o);
    }
    await Deno.writeFile(`${src}/big.bin`, big);
    const shelf = new ChunkShelf();
    shelf.failPutAt = 2;
    const fk = newFileKey();
    expect(await codeOf(uploadFile(`${src}/big.bin`, fk, shelf, { window: 1 }))).toBe(
      "CONNECTION_CLOSED",
    );
    expect(shelf.files.get([...shelf.files.keys()][0])!.length).toBe(2);
    const puts = shelf.puts;
    const up = await uploadFile(`${src}/big.bin`, fk, shelf, { window: 1 });
    expect(shelf.puts - puts).toBe(2); // only chunks 2 and 3 were sent again
    const got = await downloadFile(describe(fk, up, "big.bin"), downloads, shelf);
    expect(got.sha256).toBe(sha(big));
  });
});

Deno.test("a cut download resumes from the .part file; a bad file is never presented", async () => {
  await withDirs(async (src, downloads) => {
    const big = crypto.getRandomValues(new Uint8Array(65536));
    const data = new Uint8Array(FILE_CHUNK_BYTES * 3);
    for (let o = 0; o < data.length; o += big.length) data.set(big, o);
    await Deno.writeFile(`${src}/x.bin`, data);
    const shelf = new ChunkShelf();
    const fk = newFileKey();
    const up = await uploadFile(`${src}/x.bin`, fk, shelf);
    const d = describe(fk, up, "x.bin");
    shelf.failFetchFrom = 2;
    expect(await codeOf(downloadFile(d, downloads, shelf, { window: 1 }))).toBe(
      "CONNECTION_CLOSED",
    );
    expect((await Deno.stat(`${downloads}/.partial/${d.file}.part`)).size).toBe(
      2 * FILE_CHUNK_BYTES,
    );
    const fetched: number[] = [];
    const spy: DownloadChannel = {
      fetch: (f, from, n) => (fetched.push(from), shelf.fetch(f, from, n)),
    };
    const got = await downloadFile(d, downloads, spy, { window: 1 });
    expect(fetched).toEqual([2]);
    expect(got.sha256).toBe(sha(data));

    // Reordered chunks, a missing last chunk, or a wrong digest: TRANSFER_FAILED, no file.
    const chunks = shelf.files.get(d.file)!;
    const before = [...Deno.readDirSync(downloads)].length;
    shelf.files.set(d.file, [chunks[0], chunks[2], chunks[1]]);
    expect(await codeOf(downloadFile(d, downloads, shelf))).toBe("TRANSFER_FAILED");
    shelf.files.set(d.file, [chunks[0], chunks[1]]);
    expect(await codeOf(downloadFile(d, downloads, shelf))).toBe("TRANSFER_FAILED");
    shelf.files.set(d.file, chunks);
    const wrong = { ...d, sha256: new Uint8Array(32) };
    expect(await codeOf(downloadFile(wrong, downloads, shelf))).toBe("TRANSFER_FAILED");
    expect([...Deno.readDirSync(downloads)].length).toBe(before);
    expect([...Deno.readDirSync(`${downloads}/.partial`)]).toEqual([]);
  });
});

Deno.test("unreadable or oversized files are refused before anything is sent", async () => {
  await withDirs(async (src) => {
    const shelf = new ChunkShelf();
    expect(await codeOf(uploadFile(`${src}/missing`, newFileKey(), shelf))).toBe("FILE_NOT_FOUND");
    expect(await codeOf(uploadFile(src, newFileKey(), shelf))).toBe("FILE_NOT_FOUND");
    await Deno.writeFile(`${src}/f`, new Uint8Array(100));
    expect(await codeOf(uploadFile(`${src}/f`, newFileKey(), shelf, { maxBytes: 99 }))).toBe(
      "FILE_TOO_LARGE",
    );
    expect(shelf.files.size).toBe(0);
  });
});
