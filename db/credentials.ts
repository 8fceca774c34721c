/**
 * The embedded database's password: generated at first start (32 random
 * bytes, base64url), kept in `<dataDir>/.fastchat-db-password` (mode 0600,
 * directory 0700), and added to connection URLs for FastChat's own
 * processes, which receive it through their environment (`DATABASE_URL`),
 * never on a command line.
 *
 * @example
 * ```ts
 * import { embeddedDatabaseUrl } from "@fastchat/db/credentials";
 * // after `db/main.ts --data ./data/pglite` printed its ready line:
 * const url = await embeddedDatabaseUrl("postgres://postgres@127.0.0.1:7432/postgres", "./data/pglite");
 * // → postgres://postgres:<password>@127.0.0.1:7432/postgres
 * ```
 * @module
 */
import { randomBytes } from "node:crypto";
import { FastChatError } from "@fastchat/lib/errors";
import { makePrivateDir, PRIVATE_FILE_MODE } from "./private_dir.ts";

/** Name of the password file inside the data directory. */
export const PASSWORD_FILE = ".fastchat-db-password";
/** Data directory of `deno task db` (relative to the working directory). */
export const DEFAULT_DATA_DIR = "./data/pglite";
/** Largest password file read. */
const MAX_PASSWORD_BYTES = 1024;
/** Printable ASCII without spaces: what a password file may hold. */
const PASSWORD_SHAPE = /^[\x21-\x7e]{1,1000}$/;

/**
 * A fresh password: 32 random bytes, base64url (43 characters).
 *
 * @example
 * ```ts
 * import { generatePassword } from "@fastchat/db/credentials";
 * console.log(generatePassword().length); // 43
 * ```
 */
export function generatePassword(): string {
  return randomBytes(32).toString("base64url");
}

/** Path of the password file of `dataDir`. */
function passwordPath(dataDir: string): string {
  return `${dataDir}/${PASSWORD_FILE}`;
}

function parsePassword(bytes: Uint8Array, path: string): string {
  const text = new TextDecoder().decode(bytes).trim();
  if (!PASSWORD_SHAPE.test(text)) {
    throw new FastChatError(
      "INVALID_CONFIG",
      `${path} must hold one password of printable characters`,
      { path },
    );
  }
  return text;
}

function tooLarge(path: string, size: number): FastChatError {
  return new FastChatError("INVALID_CONFIG", `${path} is ${size} bytes, not a password file`, {
    path,
  });
}

/**
 * Reads the password of `dataDir`; undefined when the file does not exist.
 * Throws `FastChatError("INVALID_CONFIG")` when it is unreadable or malformed.
 *
 * @example
 * ```ts
 * import { readPassword } from "@fastchat/db/credentials";
 * console.log(await readPassword("./data/pglite") !== undefined);
 * ```
 */
export async function readPassword(dataDir: string): Promise<string | undefined> {
  const path = passwordPath(dataDir);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw unreadable(path, e);
  }
  try {
    const { size } = await file.stat();
    if (size > MAX_PASSWORD_BYTES) throw tooLarge(path, size);
    const buf = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const n = await file.read(buf.subarray(at));
      if (n === null) break;
      at += n;
    }
    return parsePassword(buf.subarray(0, at), path);
  } finally {
    file.close();
  }
}

/**
 * Synchronous {@link readPassword}, for `resolveDatabaseUrl`; undefined when
 * the file is missing or reading files is not permitted.
 *
 * @example
 * ```ts
 * import { readPasswordSync } from "@fastchat/db/credentials";
 * const password = readPasswordSync("./data/pglite");
 * ```
 */
export function readPasswordSync(dataDir: string): string | undefined {
  const path = passwordPath(dataDir);
  try {
    const { size } = Deno.statSync(path);
    if (size > MAX_PASSWORD_BYTES) throw tooLarge(path, size);
    return parsePassword(Deno.readFileSync(path), path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotCapable) return undefined;
    if (e instanceof FastChatError) throw e;
    throw unreadable(path, e);
  }
}

function unreadable(path: string, e: unknown): FastChatError {
  return new FastChatError(
    "INVALID_CONFIG",
    `cannot read the database password file ${path}: ${e instanceof Error ? e.message : e}`,
    { path },
    { cause: e },
  );
}

/**
 * Makes `dataDir` private (see `makePrivateDir`) and returns its password,
 * creating the password file (0600) on first use.
 *
 * @example
 * ```ts
 * import { loadOrCreatePassword } from "@fastchat/db/credentials";
 * const password = await loadOrCreatePassword("/tmp/fastchat-db");
 * console.log(password === await loadOrCreatePassword("/tmp/fastchat-db")); // true
 * ```
 */
export async function loadOrCreatePassword(dataDir: string): Promise<string> {
  await makePrivateDir(dataDir);
  const existing = await readPassword(dataDir);
  if (existing !== undefined) return existing;
  // Written whole to a private temporary file, then linked into place: a
  // concurrent reader never sees a half-written file, a concurrent creator
  // gets AlreadyExists and uses the winner's password.
  const password = generatePassword();
  const path = passwordPath(dataDir);
  const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await Deno.writeTextFile(temp, password + "\n", { createNew: true, mode: PRIVATE_FILE_MODE });
    if (Deno.build.os !== "windows") await Deno.chmod(temp, PRIVATE_FILE_MODE);
    await Deno.link(temp, path);
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return (await readPassword(dataDir))!;
    throw unreadable(path, e);
  } finally {
    await Deno.remove(temp).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
  return password;
}

/**
 * `url` with its password set to `password` (percent-encoded as needed).
 *
 * @example
 * ```ts
 * import { withPassword } from "@fastchat/db/credentials";
 * withPassword("postgres://postgres@h:7432/postgres", "s3cret"); // "postgres://postgres:s3cret@h:7432/postgres"
 * ```
 */
export function withPassword(url: string, password: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new FastChatError("INVALID_CONFIG", `not a database URL: ${url}`, undefined, {
      cause: e,
    });
  }
  u.password = encodeURIComponent(password);
  return u.href;
}

/**
 * The connection URL of an embedded database: its printed `listenUrl`
 * (`postgres://postgres@HOST:PORT/postgres`, no password) plus the password
 * kept in `dataDir`. Throws `FastChatError("STORE_UNAVAILABLE")` when the
 * data directory has no password file (the database never started there).
 *
 * @example
 * ```ts
 * import { embeddedDatabaseUrl } from "@fastchat/db/credentials";
 * const url = await embeddedDatabaseUrl("postgres://postgres@127.0.0.1:7432/postgres", "./data/pglite");
 * ```
 */
export async function embeddedDatabaseUrl(listenUrl: string, dataDir: string): Promise<string> {
  const password = await readPassword(dataDir);
  if (password === undefined) {
    throw new FastChatError(
      "STORE_UNAVAILABLE",
      `no database password in ${dataDir}: start the embedded database there first`,
      { dataDir },
    );
  }
  return withPassword(listenUrl, password);
}
