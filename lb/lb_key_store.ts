/**
 * LB public keys in the store (table `lb_keys`): each load balancer
 * publishes its ticket-signing public key when it starts, and chat servers
 * read the table to verify tickets. Keys are only ever added (a restarted LB
 * with the same key file publishes nothing new), so tickets of an LB that
 * restarted stay valid everywhere.
 *
 * @example
 * ```ts
 * import { connectStore } from "@fastchat/db";
 * import { loadLbKeys, publishLbKey } from "@fastchat/lb/lb_key_store";
 * import { loadOrCreateSigner } from "@fastchat/lb/key_file";
 * import { TicketVerifier } from "@fastchat/lib/cluster/ticket_verifier";
 * const sql = connectStore("postgres://postgres@127.0.0.1:7432/postgres");
 * const signer = await loadOrCreateSigner("data/lb-key.json");
 * await publishLbKey(sql, signer);
 * const verifier = new TicketVerifier(await loadLbKeys(sql));
 * ```
 * @module
 */
import type { Sql } from "postgres";
import { plainBytes } from "@fastchat/lib/crypto/bytes";
import { FastChatError } from "@fastchat/lib/errors";
import type { TicketSigner } from "./ticket_signer.ts";

function storeError(what: string, e: unknown): FastChatError {
  if (e instanceof FastChatError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new FastChatError("STORE_UNAVAILABLE", `${what}: ${message}`, undefined, { cause: e });
}

/**
 * Publishes the signer's raw 32-byte public key under its key id (insert, on
 * conflict do nothing). Resolves `true` if the key was new, `false` if it
 * was already published. Throws `STORE_UNAVAILABLE` if the store fails, and
 * `INVALID_CONFIG` if the key id is already taken by a different key.
 *
 * @example
 * ```ts
 * import { publishLbKey } from "@fastchat/lb/lb_key_store";
 * declare const sql: import("postgres").Sql;
 * declare const signer: import("@fastchat/lb/ticket_signer").TicketSigner;
 * console.log(await publishLbKey(sql, signer) ? "published" : "already known");
 * ```
 */
export async function publishLbKey(sql: Sql, signer: TicketSigner): Promise<boolean> {
  const publicKey = await signer.publicKey();
  let inserted: boolean;
  let stored: Uint8Array | undefined;
  try {
    const rows = await sql`insert into lb_keys (key_id, public_key)
      values (${signer.keyId}, ${publicKey}) on conflict (key_id) do nothing returning key_id`;
    inserted = rows.length === 1;
    if (!inserted) {
      const [row] = await sql`select public_key from lb_keys where key_id = ${signer.keyId}`;
      stored = row ? plainBytes(row.public_key as Uint8Array) : undefined;
    }
  } catch (e) {
    throw storeError("cannot publish the LB public key", e);
  }
  if (stored && !sameBytes(stored, publicKey)) {
    // Key ids are hashes of the key: this means a corrupted or tampered table.
    throw new FastChatError(
      "INVALID_CONFIG",
      `lb_keys already holds a different key under id ${signer.keyId}`,
    );
  }
  return inserted;
}

/**
 * Every published LB public key by key id, as a map a `TicketVerifier`
 * accepts directly. Throws `STORE_UNAVAILABLE` if the store fails.
 *
 * @example
 * ```ts
 * import { loadLbKeys } from "@fastchat/lb/lb_key_store";
 * declare const sql: import("postgres").Sql;
 * const keys = await loadLbKeys(sql);
 * console.log([...keys.keys()]); // key ids
 * ```
 */
export async function loadLbKeys(sql: Sql): Promise<Map<string, Uint8Array>> {
  try {
    const rows = await sql`select key_id, public_key from lb_keys order by created_at, key_id`;
    return new Map(rows.map((r) => [r.key_id as string, plainBytes(r.public_key as Uint8Array)]));
  } catch (e) {
    throw storeError("cannot read LB public keys", e);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
