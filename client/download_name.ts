/**
 * Safe names for received files. A sender chooses the name of a file it
 * sends, so the receiver treats it as hostile: {@link safeFileName} keeps only
 * its last path component, drops control and bidirectional-override
 * characters, refuses `.`/`..`, and bounds its length; {@link claimDownloadPath}
 * then picks a name that does not exist yet in the downloads folder
 * (`name.ext`, `name (1).ext`, `name (2).ext`, …), creating it exclusively so
 * two transfers finishing at once never share, and nothing is overwritten.
 *
 * @example
 * ```ts
 * import { safeFileName } from "@fastchat/client/download_name";
 * safeFileName("../../etc/passwd"); // "passwd"
 * safeFileName("a\u202Egnp.exe"); // "agnp.exe"
 * ```
 * @module
 */

import { join } from "node:path";

/** Longest name kept, in UTF-8 bytes (common file-system limit). */
export const MAX_FILE_NAME_BYTES = 255;

/** Name used when nothing usable is left of the sender's name. */
export const FALLBACK_FILE_NAME = "file";

// C0/C1 controls, DEL, and the Unicode bidi/format controls that can make a
// name display as something else ("txt.exe" shown as "exe.txt").
// deno-lint-ignore no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

const encoder = new TextEncoder();

function fitBytes(s: string, max: number): string {
  let out = "";
  let used = 0;
  for (const ch of s) {
    const n = encoder.encode(ch).length;
    if (used + n > max) break;
    out += ch;
    used += n;
  }
  return out;
}

/**
 * The sender's file name made safe to create in a folder: last path component
 * only (both `/` and `\` separate), no control characters, no leading or
 * trailing dots and spaces, never `.`/`..`/empty, at most
 * {@link MAX_FILE_NAME_BYTES} bytes with the extension kept.
 *
 * @example
 * ```ts
 * safeFileName("C:\\Users\\x\\photo.png"); // "photo.png"
 * safeFileName(".."); // "file"
 * ```
 */
export function safeFileName(name: string): string {
  let s = String(name).normalize("NFC").replace(UNSAFE, "");
  s = s.split(/[/\\]/).pop() ?? "";
  s = s.replace(/^[\s.]+|[\s.]+$/g, "");
  if (s === "") return FALLBACK_FILE_NAME;
  if (encoder.encode(s).length <= MAX_FILE_NAME_BYTES) return s;
  const { stem, ext } = splitExtension(s);
  const keptExt = encoder.encode(ext).length <= 32 ? ext : "";
  return fitBytes(stem, MAX_FILE_NAME_BYTES - encoder.encode(keptExt).length) + keptExt;
}

/**
 * Splits `name` into stem and extension (with its dot); a leading dot is not
 * an extension.
 *
 * @example
 * ```ts
 * splitExtension("report.final.pdf"); // { stem: "report.final", ext: ".pdf" }
 * ```
 */
export function splitExtension(name: string): { stem: string; ext: string } {
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return { stem: name, ext: "" };
  return { stem: name.slice(0, dot), ext: name.slice(dot) };
}

/**
 * Creates, exclusively, the first free path for `name` in `dir`:
 * `dir/name`, then `dir/stem (1).ext`, … and returns it. The file exists
 * (empty) when this returns, so a concurrent claim gets another name; the
 * caller renames the verified download over it.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * const a = await claimDownloadPath(dir, "x.txt"); // dir/x.txt
 * const b = await claimDownloadPath(dir, "x.txt"); // dir/x (1).txt
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function claimDownloadPath(dir: string, name: string): Promise<string> {
  const safe = safeFileName(name);
  const { stem, ext } = splitExtension(safe);
  for (let n = 0; n < 10_000; n++) {
    const candidate = n === 0 ? safe : `${fitBytes(stem, MAX_FILE_NAME_BYTES - 12)} (${n})${ext}`;
    const path = join(dir, candidate);
    try {
      const f = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
      f.close();
      return path;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  }
  throw new Error(`no free name for ${safe} in ${dir}`);
}
