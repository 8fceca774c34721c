/**
 * What a file is, read from its content, not its name: PNG, JPEG, GIF and
 * WebP images are recognised by their signatures, with their pixel size read
 * from the header; anything else is typed by a short list of extensions or
 * as `application/octet-stream`. The sender's claimed type is never trusted
 * for images: the receiver sniffs the bytes it wrote.
 *
 * @example
 * ```ts
 * import { sniffFileType } from "@fastchat/client/file_type";
 * const gif = new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 2, 0, 3, 0]);
 * sniffFileType(gif, "x.bin"); // { mime: "image/gif", image: { width: 2, height: 3 } }
 * ```
 * @module
 */

/** Bytes of a file's head that {@link sniffFileType} needs at most. */
export const SNIFF_BYTES = 256 * 1024;

/**
 * A file's type: its MIME type and, for images, the pixel size.
 *
 * @example
 * ```ts
 * const t: FileType = { mime: "image/png", image: { width: 640, height: 480 } };
 * ```
 */
export interface FileType {
  /** MIME type, e.g. `image/png`. */
  mime: string;
  /** Set for recognised images. */
  image?: { width: number; height: number };
}

const BY_EXTENSION: Record<string, string> = {
  txt: "text/plain",
  md: "text/markdown",
  csv: "text/csv",
  json: "application/json",
  pdf: "application/pdf",
  zip: "application/zip",
  gz: "application/gzip",
  tar: "application/x-tar",
  html: "text/html",
  mp3: "audio/mpeg",
  mp4: "video/mp4",
  svg: "image/svg+xml",
};

function ascii(b: Uint8Array, at: number, s: string): boolean {
  if (b.length < at + s.length) return false;
  for (let i = 0; i < s.length; i++) if (b[at + i] !== s.charCodeAt(i)) return false;
  return true;
}

function png(b: Uint8Array): FileType | undefined {
  if (!ascii(b, 0, "\x89PNG\r\n\x1a\n") || !ascii(b, 12, "IHDR") || b.length < 24) return;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { mime: "image/png", image: { width: v.getUint32(16), height: v.getUint32(20) } };
}

function gif(b: Uint8Array): FileType | undefined {
  if (!(ascii(b, 0, "GIF87a") || ascii(b, 0, "GIF89a")) || b.length < 10) return;
  return { mime: "image/gif", image: { width: b[6] | b[7] << 8, height: b[8] | b[9] << 8 } };
}

function jpeg(b: Uint8Array): FileType | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8 || b[2] !== 0xff) return;
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return { mime: "image/jpeg" };
    const marker = b[i + 1];
    if (marker === 0xff) { // fill byte
      i++;
      continue;
    }
    const len = b[i + 2] << 8 | b[i + 3];
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const height = b[i + 5] << 8 | b[i + 6];
      const width = b[i + 7] << 8 | b[i + 8];
      return { mime: "image/jpeg", image: { width, height } };
    }
    if (marker === 0xd9 || marker === 0xda || len < 2) break; // end or scan: no SOF seen
    i += 2 + len;
  }
  return { mime: "image/jpeg" };
}

function webp(b: Uint8Array): FileType | undefined {
  if (!ascii(b, 0, "RIFF") || !ascii(b, 8, "WEBP") || b.length < 30) return;
  const u24 = (at: number) => b[at] | b[at + 1] << 8 | b[at + 2] << 16;
  if (ascii(b, 12, "VP8X")) {
    return { mime: "image/webp", image: { width: u24(24) + 1, height: u24(27) + 1 } };
  }
  if (ascii(b, 12, "VP8L") && b[20] === 0x2f) {
    const bits = b[21] | b[22] << 8 | b[23] << 16 | b[24] << 24;
    return {
      mime: "image/webp",
      image: { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 },
    };
  }
  if (ascii(b, 12, "VP8 ") && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) {
    return {
      mime: "image/webp",
      image: { width: (b[26] | b[27] << 8) & 0x3fff, height: (b[28] | b[29] << 8) & 0x3fff },
    };
  }
  return { mime: "image/webp" };
}

/**
 * Types a file from the first bytes of its content (up to
 * {@link SNIFF_BYTES}), falling back to its name's extension.
 *
 * @example
 * ```ts
 * sniffFileType(new TextEncoder().encode("hello"), "notes.txt"); // { mime: "text/plain" }
 * ```
 */
export function sniffFileType(head: Uint8Array, name = ""): FileType {
  const found = png(head) ?? gif(head) ?? jpeg(head) ?? webp(head);
  if (found) return found;
  const ext = name.toLowerCase().match(/\.([a-z0-9]{1,8})$/)?.[1];
  return { mime: (ext && BY_EXTENSION[ext]) || "application/octet-stream" };
}
