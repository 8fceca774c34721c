/**
 * Keeps a data directory private to its owner: the directory (created if
 * missing) and every directory below it become `0700`, every file loses its
 * group and other permission bits (`0644` → `0600`). Symbolic links are not
 * followed. The embedded database's files hold password hashes, key backups
 * and the `servers` table that makes a peer trusted. No-op on Windows.
 *
 * @example
 * ```ts
 * import { makePrivateDir } from "./private_dir.ts";
 * await makePrivateDir("./data/pglite");
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";

/** Mode of a private directory. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of a private file. */
export const PRIVATE_FILE_MODE = 0o600;
/** Most entries visited below a data directory (a PGlite directory holds ~1,500). */
const MAX_ENTRIES = 200_000;

const POSIX = Deno.build.os !== "windows";

/**
 * Creates `dir` (and parents) if missing, then makes it and its contents private.
 * Throws `FastChatError("INVALID_CONFIG")` when `dir` is not a directory or
 * holds more than 200,000 entries.
 *
 * @example
 * ```ts
 * import { makePrivateDir } from "./private_dir.ts";
 * await makePrivateDir("/tmp/fastchat-db");
 * console.log((await Deno.stat("/tmp/fastchat-db")).mode! & 0o777); // 448 (0o700)
 * ```
 */
export async function makePrivateDir(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    // a file (or a dangling link) of that name: reported below
  }
  const info = await Deno.lstat(dir);
  if (!info.isDirectory) {
    throw new FastChatError("INVALID_CONFIG", `${dir} is not a directory`, { dir });
  }
  if (!POSIX) return;
  await Deno.chmod(dir, PRIVATE_DIR_MODE);
  let visited = 0;
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    for await (const entry of Deno.readDir(current)) {
      if (++visited > MAX_ENTRIES) {
        throw new FastChatError("INVALID_CONFIG", `${dir} holds more than ${MAX_ENTRIES} entries`, {
          dir,
        });
      }
      if (entry.isSymlink) continue;
      const path = `${current}/${entry.name}`;
      try {
        if (entry.isDirectory) {
          await Deno.chmod(path, PRIVATE_DIR_MODE);
          pending.push(path);
        } else if (entry.isFile) {
          const mode = (await Deno.lstat(path)).mode ?? PRIVATE_FILE_MODE;
          if ((mode & 0o077) !== 0) await Deno.chmod(path, mode & 0o700);
        }
      } catch (e) {
        // Gone since it was listed (e.g. another starter's temporary file,
        // renamed into place): nothing left to protect.
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
  }
}

/**
 * The permission bits (`mode & 0o777`) of `path`, or undefined on Windows.
 *
 * @example
 * ```ts
 * import { permissionBits } from "./private_dir.ts";
 * console.log((await permissionBits("/tmp"))?.toString(8)); // "1777" & 0o777 → "777"
 * ```
 */
export async function permissionBits(path: string): Promise<number | undefined> {
  const mode = (await Deno.lstat(path)).mode;
  return mode === null ? undefined : mode & 0o777;
}
