/**
 * Files end to end: real clients and a real chat server on loopback (PGlite,
 * and PostgreSQL when configured): to a user and to a group, an offline
 * recipient, identical SHA-256, images marked, chunks deleted once everyone
 * has the file, refusals.
 */
import { expect } from "expect";
import { createHash } from "node:crypto";
import { connectStore } from "@fastchat/db/connect";
import { DB_KINDS, EventLog, openTestDb, withChatServer } from "@fastchat/testing";
import { ChatClient, type ClientEvent } from "./chat_client.ts";

const KDF = 100_000;

function make(port: number, root: string) {
  const log = new EventLog<ClientEvent>();
  const client = new ChatClient({
    server: { host: "127.0.0.1", port },
    homeRoot: root,
    kdfIterations: KDF,
    onEvent: log.push,
  });
  return { client, log };
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

for (const kind of DB_KINDS) {
  Deno.test(`files end to end (${kind}): to a user, to a group, offline, verified, cleaned up`, async () => {
    const db = await openTestDb(kind);
    const root = await Deno.makeTempDir({ prefix: "fastchat-files-" });
    const clients: ChatClient[] = [];
    try {
      await withChatServer(db, { maxFileBytes: 8 * 1024 * 1024 }, async (server) => {
        const open = async (user: string, register: boolean) => {
          const u = make(server.port, root);
          clients.push(u.client);
          if (register) await u.client.register(user, `${user}-password-1`);
          else await u.client.login(user, `${user}-password-1`);
          return u;
        };
        const alice = await open("alice", true);
        const bob = await open("bob", true);
        const carol = await open("carol", true);
        // A 2.6 MiB file of random bytes (11 chunks, the last one short) and a PNG.
        const big = crypto.getRandomValues(new Uint8Array(65536));
        const data = new Uint8Array(2_700_000);
        for (let o = 0; o < data.length; o += big.length) {
          data.set(big.subarray(0, Math.min(big.length, data.length - o)), o);
        }
        await Deno.writeFile(`${root}/report.bin`, data);
        const png = await Deno.readFile(new URL("./testdata/px.png", import.meta.url));
        await Deno.writeFile(`${root}/pixel`, png);

        await alice.client.sendFile("bob", `${root}/report.bin`);
        const got = await bob.log.waitFor((e) => e.event === "file");
        expect(got).toMatchObject({
          event: "file",
          from: "alice",
          name: "report.bin",
          bytes: data.length,
          sha256: sha(data),
        });
        if (got.event !== "file") throw new Error("unreachable");
        expect(got.path.startsWith(`${root}/bob/downloads/`)).toBe(true);
        expect(sha(await Deno.readFile(got.path))).toBe(sha(data));
        await alice.log.waitFor((e) => e.event === "sent");

        // To a group with an offline member: carol gets it at her next login.
        await alice.client.group("create", "team", ["bob", "carol"]);
        await carol.log.waitFor((e) => e.event === "group");
        await carol.client.close();
        await alice.client.sendFile("#team", `${root}/pixel`);
        const img = await bob.log.waitFor((e) => e.event === "file" && e.group === "team");
        expect(img).toMatchObject({
          from: "alice",
          group: "team",
          name: "pixel",
          mime: "image/png",
          image: { width: 3, height: 2 },
          sha256: sha(png),
        });
        const carol2 = await open("carol", false);
        const late = await carol2.log.waitFor((e) => e.event === "file");
        expect(late).toMatchObject({ group: "team", sha256: sha(png), bytes: png.length });

        // Everyone has both files: nothing is left on the server.
        const sql = connectStore(db.url, { max: 1 });
        try {
          let left = -1;
          for (let i = 0; i < 100 && left !== 0; i++) {
            left = (await sql`select count(*)::int as n from files`)[0].n;
            if (left !== 0) await new Promise((r) => setTimeout(r, 50));
          }
          expect(left).toBe(0);
          expect((await sql`select count(*)::int as n from file_chunks`)[0].n).toBe(0);
        } finally {
          await sql.end();
        }

        // Refusals: a missing file, one over the server's limit, a bad recipient.
        const code = (p: Promise<unknown>) => p.then(() => "ok", (e) => e.code as string);
        expect(await code(alice.client.sendFile("bob", `${root}/nope`))).toBe("FILE_NOT_FOUND");
        await Deno.writeFile(`${root}/huge.bin`, new Uint8Array(9 * 1024 * 1024));
        expect(await code(alice.client.sendFile("bob", `${root}/huge.bin`))).toBe(
          "FILE_TOO_LARGE",
        );
        expect(await code(alice.client.sendFile("#nope", `${root}/pixel`))).toBe("UNKNOWN_GROUP");
      });
    } finally {
      for (const c of clients) await c.close();
      await db.close();
      await Deno.remove(root, { recursive: true });
    }
  });
}
