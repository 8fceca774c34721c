import { expect } from "expect";
import { msgpackCodec } from "@fastchat/lib/msgpack_codec";
import {
  derivePasswordKeys,
  importMessageKey,
  randomBytes,
  sealMessage,
  sealVault,
} from "@fastchat/lib/crypto";
import type { OutboxRecord } from "./outbox.ts";
import { framed, OutboxLog } from "./outbox_log.ts";

const record = (id: string): OutboxRecord => ({
  add: { t: "send", id, to: "bob", kind: "dm", ts: 1, body: new Uint8Array([1, 2, 3]) },
});

Deno.test("OutboxLog: batches sealed by an earlier version (AES-256-GCM) are read, then carried over", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { vaultKey } = await derivePasswordKeys("a long password", new Uint8Array(16), 1000, {
      allowWeak: true,
    });
    // The layout an earlier version wrote: the sealed log key, then `iv(12) ‖ AES-GCM` batches.
    const raw = randomBytes(32);
    const key = importMessageKey(raw);
    const aad = new TextEncoder().encode("fastchat/outbox/v1");
    const gcmPart = (records: OutboxRecord[]) => {
      const { iv, ct } = sealMessage(key, msgpackCodec().pack(records), aad);
      return new Uint8Array([...iv, ...ct]);
    };
    const path = `${dir}/outbox.log`;
    await Deno.writeFile(
      path,
      framed([
        await sealVault(vaultKey, raw, "outbox-key"),
        gcmPart([record("old-00001"), record("old-00002")]),
        gcmPart([{ done: ["old-00001"] }]),
      ]),
      { mode: 0o600 },
    );
    const log = new OutboxLog(path, vaultKey);
    expect(await log.load()).toEqual([
      record("old-00001"),
      record("old-00002"),
      { done: ["old-00001"] },
    ]);
    // An append rewrites the log under a fresh key first; both kinds of batch read back.
    await log.append([record("new-00003")]);
    log.close();
    const again = await new OutboxLog(path, vaultKey).load();
    expect(again.at(-1)).toEqual(record("new-00003"));
    expect(again).toContainEqual(record("old-00002"));
    // A batch that is neither reading is refused, not skipped.
    const bytes = await Deno.readFile(path);
    bytes[bytes.length - 1] ^= 1;
    await Deno.writeFile(path, bytes);
    await expect(new OutboxLog(path, vaultKey).load()).rejects.toMatchObject({
      code: "DECRYPT_FAILED",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
