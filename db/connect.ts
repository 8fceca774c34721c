/**
 * Connecting to the FastChat store: which URL to use, a postgres.js client
 * with FastChat's defaults, and a readiness wait for launchers.
 *
 * @example
 * ```ts
 * import { connectStore, resolveDatabaseUrl, waitForDatabase } from "@fastchat/db";
 * const url = resolveDatabaseUrl();
 * await waitForDatabase(url, 10_000);
 * const sql = connectStore(url);
 * console.log(await sql`select 1 as one`);
 * await sql.end();
 * ```
 * @module
 */
import postgres from "postgres";
import { FastChatError } from "@fastchat/lib/errors";
import { DEFAULT_DATA_DIR, readPasswordSync, withPassword } from "./credentials.ts";

/** Where `deno task db` listens by default. */
export const DEFAULT_EMBEDDED_URL = "postgres://postgres@127.0.0.1:7432/postgres";

/** A postgres.js client as returned by {@link connectStore}. */
export type Store = postgres.Sql<Record<string, unknown>>;

/** Options of {@link connectStore}. */
export interface ConnectOptions {
  /** Maximum pooled connections (default 4). */
  max?: number;
  /** `search_path` for every connection (e.g. a per-test schema); default: the server's. */
  searchPath?: string;
}

/**
 * Picks the database URL: the explicit flag, else `$DATABASE_URL`, else
 * {@link DEFAULT_EMBEDDED_URL} with the password `$PGPASSWORD` or, when
 * unset, the one `deno task db` keeps in `dataDir` (default
 * `./data/pglite`), so a server next to `deno task db` just connects.
 * (postgres.js itself uses `$PGPASSWORD` for a URL without password.)
 * `env` and `dataDir` exist for tests. Throws
 * `FastChatError("INVALID_CONFIG")` when the password file is unreadable.
 *
 * @example
 * ```ts
 * import { resolveDatabaseUrl } from "@fastchat/db";
 * resolveDatabaseUrl("postgres://db.example/chat"); // the flag wins
 * resolveDatabaseUrl(); // $DATABASE_URL or the embedded default (with its password)
 * resolveDatabaseUrl(undefined, () => undefined, "/nonexistent"); // DEFAULT_EMBEDDED_URL
 * ```
 */
export function resolveDatabaseUrl(
  flag?: string,
  env: (name: string) => string | undefined = readEnv,
  dataDir: string = DEFAULT_DATA_DIR,
): string {
  const given = flag || env("DATABASE_URL");
  if (given) return given;
  const password = env("PGPASSWORD") || readPasswordSync(dataDir);
  return password ? withPassword(DEFAULT_EMBEDDED_URL, password) : DEFAULT_EMBEDDED_URL;
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: fall back to the default
  }
}

/**
 * Hides the password of a database URL, for logs and error messages.
 *
 * @example
 * ```ts
 * import { redactDatabaseUrl } from "@fastchat/db";
 * redactDatabaseUrl("postgres://u:secret@h/db"); // "postgres://u:***@h/db"
 * ```
 */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.href;
  } catch {
    return url.replace(/:\/\/([^:/@]*):[^@]*@/, "://$1:***@");
  }
}

/** Parses int8 text as a number when exact, else as a bigint. */
function parseInt8(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

/**
 * Creates a postgres.js client with FastChat's defaults: notices silenced,
 * `max` 4, idle connections closed after 60 s, 10 s connect timeout,
 * prepared statements, `bigint`/`bigserial` columns (e.g. `seq`, `sent_at`,
 * `count(*)`) as JS numbers when exact (a `bigint` beyond 2^53), and `bytea`
 * as `Uint8Array` (Buffer). Connecting is lazy: the first query connects.
 *
 * @example
 * ```ts
 * import { connectStore } from "@fastchat/db";
 * const sql = connectStore("postgres://postgres@127.0.0.1:7432/postgres", { max: 8 });
 * const [{ n }] = await sql`select count(*) as n from users`;
 * console.log(typeof n); // "number"
 * await sql.end();
 * ```
 */
export function connectStore(url: string, opts: ConnectOptions = {}): Store {
  return postgres(url, {
    max: opts.max ?? 4,
    idle_timeout: 60,
    connect_timeout: 10,
    prepare: true,
    onnotice: () => {},
    connection: opts.searchPath ? { search_path: opts.searchPath } : {},
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (x: number | bigint) => String(x),
        parse: parseInt8,
      },
    },
  }) as unknown as Store;
}

/** Whether `e` is PostgreSQL refusing the credentials (SQLSTATE class 28). */
function refused(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("28");
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Retries connecting (`select 1`) until the database answers or `timeoutMs`
 * passes; then throws `FastChatError("STORE_UNAVAILABLE")` naming the URL
 * (password redacted) and the last error; at once when the database refuses
 * the credentials (SQLSTATE class 28, e.g. 28P01: wrong password).
 *
 * @example
 * ```ts
 * import { waitForDatabase } from "@fastchat/db";
 * await waitForDatabase("postgres://postgres@127.0.0.1:7432/postgres", 15_000);
 * ```
 */
export async function waitForDatabase(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  let last: unknown;
  while (true) {
    const left = deadline - Date.now();
    const sql = postgres(url, {
      max: 1,
      connect_timeout: Math.max(1, Math.ceil(Math.min(left, 10_000) / 1000)),
      onnotice: () => {},
      fetch_types: false,
    });
    try {
      await sql`select 1`;
      return;
    } catch (e) {
      last = e;
    } finally {
      // The probe's own failure is `last`, reported below; ending the
      // throwaway probe client has nothing left to release if it fails.
      await sql.end({ timeout: 0 }).catch(() => {});
    }
    if (refused(last)) break; // a wrong password does not get right by waiting
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    await new Promise((r) => setTimeout(r, Math.min(delay, remaining)));
    delay = Math.min(delay * 2, 1000);
  }
  const shown = redactDatabaseUrl(url);
  const why = refused(last)
    ? `refused the credentials (${(last as { code: string }).code})`
    : `not reachable within ${timeoutMs} ms`;
  throw new FastChatError(
    "STORE_UNAVAILABLE",
    `database ${shown} ${why}: ${errorMessage(last)}`,
    { url: shown, timeoutMs },
    { cause: last },
  );
}
