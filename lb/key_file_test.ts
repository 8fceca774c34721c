import { expect } from "expect";
import { KEY_FILE_MODE, loadOrCreateSigner } from "./key_file.ts";
import { TicketVerifier } from "@fastchat/lib/cluster/ticket_verifier";
import { codeOf } from "@fastchat/testing";

const posix = Deno.build.os !== "windows";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fastchat-lb-key-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("creates the key file with mode 0600, then reuses it", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/nested/lb/ticket_key.json`;
    const first = await loadOrCreateSigner(path);
    const info = await Deno.stat(path);
    if (posix) expect(info.mode! & 0o777).toBe(KEY_FILE_MODE);
    expect(first.extractable).toBe(false);
    const doc = JSON.parse(await Deno.readTextFile(path));
    expect(doc).toMatchObject({ format: "fastchat-lb-ticket-key", version: 1, keyId: first.keyId });

    const again = await loadOrCreateSigner(path);
    expect(again.keyId).toBe(first.keyId);
    expect(await again.publicKey()).toEqual(await first.publicKey());
    // tickets from before the restart verify with the reloaded key and vice versa
    const t = await first.issue({ serverId: "s", host: "h", port: 1 });
    await new TicketVerifier([await again.publicKey()]).verify(t, { serverId: "s" });
    expect([...Deno.readDirSync(`${dir}/nested/lb`)].map((e) => e.name)).toEqual([
      "ticket_key.json",
    ]); // no temporary files left behind
  });
});

Deno.test("concurrent first starts agree on one key", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/key.json`;
    const signers = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateSigner(path)));
    expect(new Set(signers.map((s) => s.keyId)).size).toBe(1);
    expect((await loadOrCreateSigner(path)).keyId).toBe(signers[0].keyId);
  });
});

Deno.test({
  name: "refuses a key file readable by group or others",
  ignore: !posix,
  fn: () =>
    withDir(async (dir) => {
      const path = `${dir}/key.json`;
      const signer = await loadOrCreateSigner(path);
      await Deno.chmod(path, 0o644);
      expect(await codeOf(loadOrCreateSigner(path))).toBe("INVALID_CONFIG");
      await Deno.chmod(path, 0o600);
      expect((await loadOrCreateSigner(path)).keyId).toBe(signer.keyId);
    }),
});

Deno.test("a corrupt key file is an error and is never overwritten", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/key.json`;
    const good = await loadOrCreateSigner(path);
    const doc = JSON.parse(await Deno.readTextFile(path));
    const other = await loadOrCreateSigner(`${dir}/other.json`);
    const otherDoc = JSON.parse(await Deno.readTextFile(`${dir}/other.json`));
    const variants = [
      "",
      "not json",
      "[]",
      JSON.stringify({ ...doc, format: "something-else" }),
      JSON.stringify({ ...doc, version: 2 }),
      JSON.stringify({ ...doc, privateKey: "AAAA" }),
      JSON.stringify({ ...doc, privateKey: undefined }),
      JSON.stringify({ ...doc, publicKey: otherDoc.publicKey }),
      JSON.stringify({ ...doc, keyId: other.keyId }),
    ];
    for (const text of variants) {
      await Deno.writeTextFile(path, text, { mode: 0o600 });
      expect(await codeOf(loadOrCreateSigner(path))).toBe("INVALID_CONFIG");
      expect(await Deno.readTextFile(path)).toBe(text);
    }
    await Deno.writeTextFile(path, JSON.stringify(doc));
    expect((await loadOrCreateSigner(path)).keyId).toBe(good.keyId);
  });
});

Deno.test("a directory or empty path is a configuration error", async () => {
  await withDir(async (dir) => {
    expect(await codeOf(loadOrCreateSigner(dir))).toBe("INVALID_CONFIG");
    expect(await codeOf(loadOrCreateSigner(""))).toBe("INVALID_CONFIG");
  });
});
