import { expect } from "expect";
import { derivePasswordKeys } from "@fastchat/lib/crypto";
import { SentHistory } from "./sent_history.ts";
import { type HistoryRecord, UserHome } from "./user_home.ts";

const rec = (id: string, text: string): HistoryRecord => ({
  id,
  peer: "bob",
  from: "alice",
  to: "bob",
  text,
  sentAt: 1,
});

async function home() {
  const root = await Deno.makeTempDir();
  const { vaultKey } = await derivePasswordKeys("pw", new Uint8Array(16), 1000, {
    allowWeak: true,
  });
  return { root, home: UserHome.at(root, "alice"), vaultKey };
}

Deno.test("sent texts reach the history only after their outbox write, a frame's texts together", async () => {
  const { root, home: h, vaultKey } = await home();
  try {
    const errors: unknown[] = [];
    const sent = new SentHistory((e) => errors.push(e));
    const { promise: written, resolve } = Promise.withResolvers<void>();
    sent.add(h, vaultKey, [rec("m-00000001", "one"), rec("m-00000001_1", "two")], written);
    expect(sent.pending).toBe(1);
    await h.flush();
    expect(await h.readHistory(vaultKey, "bob", 10)).toEqual([]);
    resolve();
    await sent.settled();
    expect(sent.pending).toBe(0);
    expect((await h.readHistory(vaultKey, "bob", 10)).map((r) => r.text)).toEqual(["one", "two"]);
    expect(errors).toEqual([]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a failed outbox write appends nothing; a failed append is reported", async () => {
  const { root, home: h, vaultKey } = await home();
  try {
    const errors: unknown[] = [];
    const sent = new SentHistory((e) => errors.push(e));
    sent.add(h, vaultKey, [rec("m-00000001", "lost")], Promise.reject(new Error("disk full")));
    await sent.settled();
    expect(await h.readHistory(vaultKey, "bob", 10)).toEqual([]);
    expect(errors).toEqual([]); // the outbox reports its own failure
    await Deno.mkdir(`${h.dir}/history.log`, { recursive: true }); // appending there fails
    sent.add(h, vaultKey, [rec("m-00000002", "x")], Promise.resolve());
    await sent.settled();
    expect(errors.length).toBe(1);
    expect(sent.pending).toBe(0);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
