/**
 * Persists the LB's ticket-signing key pair in a file readable only by its
 * owner (mode 0600), so a restarted LB keeps its key id and the public key
 * published for chat servers stays valid.
 *
 * File format (JSON, one object):
 * `{ "format": "fastchat-lb-ticket-key", "version": 1, "keyId", "publicKey",
 * "privateKey" }` with both keys base64url (raw public key, PKCS#8 private
 * key). `keyId` and `publicKey` are informative and checked on load.
 *
 * Creation is atomic and race-free: the key is written to a private
 * temporary file, flushed, then hard-linked to `path` (which fails if
 * another process got there first; its key is then used). An existing file
 * is never overwritten: one that cannot be read, parsed, or whose mode lets
 * group/others access it (POSIX), makes loading fail with `INVALID_CONFIG`
 * instead of silently rotating the key.
 *
 * @example
 * ```ts
 * import { loadOrCreateSigner } from "@fastchat/lb/key_file";
 * const signer = await loadOrCreateSigner("data/lb/ticket_key.json");
 * console.log(signer.keyId);
 * ```
 * @module
 */

import { dirname } from "node:path";
import { FastChatError } from "@fastchat/lib/errors";
import { fromBase64Url, randomBytes, toBase64Url, toHex } from "@fastchat/lib/crypto";
import { JsonLogger, type Logger } from "@fastchat/lib/logger";
import { TicketSigner } from "./ticket_signer.ts";

/** Mode of the key file: owner read/write only. */
export const KEY_FILE_MODE = 0o600;
const FORMAT = "fastchat-lb-ticket-key";
const VERSION = 1;
const MAX_FILE_BYTES = 64 * 1024;

function badFile(path: string, message: string, cause?: unknown): FastChatError {
  return new FastChatError("INVALID_CONFIG", `LB key file ${path}: ${message}`, { path }, {
    cause,
  });
}

/**
 * Options of {@link loadOrCreateSigner}.
 *
 * @example
 * ```ts
 * import { JsonLogger } from "@fastchat/lib/logger";
 * import type { KeyFileOptions } from "@fastchat/lb/key_file";
 * const opts: KeyFileOptions = { logger: new JsonLogger("lb") };
 * ```
 */
export interface KeyFileOptions {
  /** Where a temporary key copy that could not be removed is reported (default: stderr). */
  logger?: Logger;
}

/**
 * Loads the LB signing key from `path`, creating it (and missing parent
 * directories, mode 0700) with a fresh key on first start. The returned
 * signer's private key is non-extractable. Throws `INVALID_CONFIG` for an
 * unusable or insecure existing file, and when a new file cannot be made
 * private (no key is written into it then).
 *
 * @example
 * ```ts
 * import { publishLbKey } from "@fastchat/lb/lb_key_store";
 * declare const sql: import("postgres").Sql; // the cluster database
 * const signer = await loadOrCreateSigner("/var/lib/fastchat/lb_key.json");
 * await publishLbKey(sql, signer); // servers verify tickets against the published keys
 * ```
 */
export async function loadOrCreateSigner(
  path: string,
  opts: KeyFileOptions = {},
): Promise<TicketSigner> {
  if (typeof path !== "string" || path === "") {
    throw new FastChatError("INVALID_CONFIG", "LB key file path must be a non-empty string");
  }
  try {
    return await loadSigner(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw asConfigError(path, "cannot read", e);
  }
  try {
    return await createSigner(path, opts.logger ?? new JsonLogger("lb"));
  } catch (e) {
    throw asConfigError(path, "cannot create", e);
  }
}

function asConfigError(path: string, message: string, e: unknown): FastChatError {
  return e instanceof FastChatError ? e : badFile(path, message, e);
}

async function loadSigner(path: string): Promise<TicketSigner> {
  const info = await Deno.stat(path); // NotFound propagates to the caller
  if (!info.isFile) throw badFile(path, "not a regular file");
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8);
    throw badFile(path, `mode ${mode} is too open; run: chmod 600 ${path}`);
  }
  if (info.size > MAX_FILE_BYTES) throw badFile(path, "too large");
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw badFile(path, "unreadable or not JSON", e);
  }
  if (!doc || typeof doc !== "object" || doc.format !== FORMAT || doc.version !== VERSION) {
    throw badFile(path, `not a ${FORMAT} v${VERSION} file`);
  }
  if (typeof doc.privateKey !== "string") throw badFile(path, "privateKey missing");
  let signer: TicketSigner;
  try {
    signer = await TicketSigner.import(fromBase64Url(doc.privateKey));
  } catch (e) {
    throw badFile(path, "invalid privateKey", e);
  }
  const pub = toBase64Url(await signer.publicKey());
  if (doc.publicKey !== undefined && doc.publicKey !== pub) {
    throw badFile(path, "publicKey does not match privateKey");
  }
  if (doc.keyId !== undefined && doc.keyId !== signer.keyId) {
    throw badFile(path, "keyId does not match the key");
  }
  return signer;
}

/**
 * Gives the new, still empty file `tmp` exactly {@link KEY_FILE_MODE}. A
 * failed chmod is harmless when the file is private anyway (it was created
 * with mode 0600, and a umask only removes bits) or when the platform has no
 * POSIX modes (Windows: `mode` is null, and loading does not check it
 * either); otherwise this fails before any key byte is written.
 */
async function makePrivate(file: Deno.FsFile, tmp: string, path: string): Promise<void> {
  try {
    await Deno.chmod(tmp, KEY_FILE_MODE);
  } catch (e) {
    const mode = (await file.stat()).mode;
    if (mode === null || (mode & 0o077) === 0) return;
    const shown = (mode & 0o777).toString(8);
    throw badFile(path, `cannot make ${tmp} private (mode ${shown}); no key written`, e);
  }
}

async function createSigner(path: string, logger: Logger): Promise<TicketSigner> {
  const fresh = await TicketSigner.generate();
  const doc = {
    format: FORMAT,
    version: VERSION,
    keyId: fresh.keyId,
    publicKey: toBase64Url(await fresh.publicKey()),
    privateKey: toBase64Url(await fresh.exportPrivate()),
  };
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${toHex(randomBytes(8))}.tmp`;
  try {
    const file = await Deno.open(tmp, { createNew: true, write: true, mode: KEY_FILE_MODE });
    try {
      await makePrivate(file, tmp, path);
      const bytes = new TextEncoder().encode(JSON.stringify(doc, null, 2) + "\n");
      for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
      await file.sync();
    } finally {
      file.close();
    }
    try {
      await Deno.link(tmp, path);
    } catch (e) {
      // AlreadyExists: another LB process created it first, use its key.
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  } finally {
    await Deno.remove(tmp).catch((e) => {
      // NotFound: creating it failed, nothing to remove. Anything else leaves
      // a (private) copy of a key behind: say where, loudly.
      if (e instanceof Deno.errors.NotFound) return;
      logger.warn("key_copy_left_behind", {
        file: tmp,
        error: String(e),
        hint: "it holds a private key; remove it",
      });
    });
  }
  return await loadSigner(path);
}
