import { expect } from "expect";
import { derivePasswordKeys } from "@fastchat/lib/crypto";
import {
  DONE_LINGER_MS,
  Outbox,
  type OutboxFrame,
  type OutboxRecord,
  type OutboxStorage,
} from "./outbox.ts";
import { UserHome } from "./user_home.ts";

const frame = (id: string): OutboxFrame => ({
  t: "send",
  id,
  to: "bob",
  kind: "dm",
  ts: 1,
  body: new Uint8Array([1, 2, 3]),
});

/** Storage in memory that counts its writes. */
class MemoryStorage implements OutboxStorage {
  records: OutboxRecord[] = [];
  appends = 0;
  append(records: OutboxRecord[]): Promise<void> {
    this.appends++;
    this.records.push(...structuredClone(records));
    return Promise.resolve();
  }
  load(): Promise<OutboxRecord[]> {
    return Promise.resolve(structuredClone(this.records));
  }
  replace(records: OutboxRecord[]): Promise<void> {
    this.records = structuredClone(records);
    return Promise.resolve();
  }
  close(): void {}
}

Deno.test("Outbox: what was pending when the process died is pending again at the next attach", async () => {
  const disk = new MemoryStorage();
  const first = new Outbox();
  expect(await first.attach(disk)).toEqual([]);
  await first.add(frame("m-00000001"));
  await first.add(frame("m-00000002"));
  await first.add(frame("m-00000003"));
  first.remove("m-00000002"); // confirmed
  await first.add(frame("m-00000004")); // (a later write flushes the confirmation)
  // "crash": a new process, the same disk
  const second = new Outbox();
  const restored = await second.attach(disk);
  expect(restored.map((f) => f.id)).toEqual(["m-00000001", "m-00000003", "m-00000004"]);
  expect([...second.values()].map((f) => f.id)).toEqual(restored.map((f) => f.id));
  // the log was compacted to what is pending
  expect(disk.records).toEqual(restored.map((add) => ({ add })));
});

Deno.test("Outbox: sends of one tick share one write; add resolves once written", async () => {
  const disk = new MemoryStorage();
  const outbox = new Outbox();
  await outbox.attach(disk);
  await Promise.all(Array.from({ length: 50 }, (_, i) => outbox.add(frame(`m-${1000 + i}-abc`))));
  expect(disk.appends).toBe(1);
  expect(disk.records.length).toBe(50);
});

Deno.test("Outbox: bounded — add waits for room while full", async () => {
  const outbox = new Outbox({ maxPending: 2 });
  await outbox.attach(new MemoryStorage());
  await outbox.add(frame("m-00000001"));
  await outbox.add(frame("m-00000002"));
  let third = false;
  const adding = outbox.add(frame("m-00000003")).then(() => third = true);
  await Promise.resolve();
  await Promise.resolve();
  expect(third).toBe(false);
  expect(outbox.size).toBe(2);
  outbox.remove("m-00000001");
  await adding;
  expect(third).toBe(true);
  expect(outbox.size).toBe(2);
});

Deno.test("Outbox: a write that fails is not pending (the send fails instead)", async () => {
  const disk = new MemoryStorage();
  disk.append = () => Promise.reject(new Error("disk full"));
  const outbox = new Outbox();
  await outbox.attach(disk);
  await expect(outbox.add(frame("m-00000001"))).rejects.toThrow("disk full");
  expect(outbox.size).toBe(0);
});

Deno.test("Outbox on a real home: sealed log, mode 0600, torn tail ignored, compaction", async () => {
  const root = await Deno.makeTempDir();
  try {
    const { vaultKey } = await derivePasswordKeys("a long password", new Uint8Array(16), 1000, {
      allowWeak: true,
    });
    const home = UserHome.at(root, "alice");
    const first = new Outbox();
    await first.attach(home.outboxStorage(vaultKey));
    await first.add(frame("visible-id-1"));
    await first.add(frame("visible-id-2"));
    first.remove("visible-id-1");
    await first.add(frame("visible-id-3"));
    const path = `${home.dir}/outbox.log`;
    expect((await Deno.stat(path)).mode! & 0o777).toBe(0o600);
    const bytes = await Deno.readFile(path);
    expect(new TextDecoder().decode(bytes)).not.toContain("visible-id"); // sealed
    // a torn final write (a crash in the middle of an append) is ignored
    await Deno.writeFile(path, new Uint8Array([0, 0, 1, 0, 9, 9]), { append: true });
    const second = new Outbox({ compactAfter: 256 });
    const restored = await second.attach(home.outboxStorage(vaultKey));
    expect(restored.map((f) => f.id)).toEqual(["visible-id-2", "visible-id-3"]);
    // another password's key cannot read it
    const other = await derivePasswordKeys("another password", new Uint8Array(16), 1000, {
      allowWeak: true,
    });
    await expect(new Outbox().attach(home.outboxStorage(other.vaultKey))).rejects.toThrow();
    // once everything is confirmed and the log is long, it starts over
    const before = await Deno.stat(path);
    for (let i = 0; i < 300; i++) {
      await second.add(frame(`bulk-${1000 + i}`));
      second.remove(`bulk-${1000 + i}`);
    }
    second.remove("visible-id-2");
    second.remove("visible-id-3");
    await second.flush();
    expect((await Deno.stat(path)).size).toBeLessThan(100); // just the sealed log key
    // a second time: cut back in place, same sealed key
    const header = (await Deno.readFile(path)).slice();
    for (let i = 0; i < 300; i++) {
      await second.add(frame(`more-${1000 + i}`));
      second.remove(`more-${1000 + i}`);
    }
    await second.flush();
    expect(await Deno.readFile(path)).toEqual(header);
    expect((await Deno.stat(path)).ino).toBe(before.ino); // never rewritten
    await second.add(frame("last-0001"));
    expect((await new Outbox().attach(home.outboxStorage(vaultKey))).map((f) => f.id))
      .toEqual(["last-0001"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("Outbox: confirm returns the messages that were pending; idle resolves when none is", async () => {
  const outbox = new Outbox();
  await outbox.add(frame("m-00000001"));
  await outbox.add(frame("m-00000002"));
  let idle = false;
  const waiting = outbox.idle().then(() => idle = true);
  expect(outbox.confirm(["m-00000001", "unknown-01"]).map((f) => f.id)).toEqual(["m-00000001"]);
  await Promise.resolve();
  expect(idle).toBe(false);
  expect(outbox.confirm(["m-00000001", "m-00000002"]).map((f) => f.id)).toEqual(["m-00000002"]);
  await waiting;
  expect(idle).toBe(true);
  await outbox.idle(); // nothing pending: at once
});

Deno.test("Outbox: receipts are held until released, confirm pending messages, and a stored one shows once", async () => {
  const outbox = new Outbox();
  await outbox.add(frame("m-00000001"));
  await outbox.add(frame("m-00000002"));
  // Before the user is ready: held.
  expect(outbox.receipts({ t: "delivered", items: [["bob", "m-00000001"]], stored: true }))
    .toEqual([]);
  expect(outbox.size).toBe(2);
  const released = outbox.releaseReceipts();
  expect(released).toEqual([
    { id: "m-00000001", to: "bob", confirmed: frame("m-00000001"), stored: true, show: true },
  ]);
  // The server re-sends a stored receipt until it is acknowledged: not shown again.
  expect(outbox.receipts({ t: "delivered", items: [["bob", "m-00000001"]], stored: true }))
    .toEqual([{ id: "m-00000001", to: "bob", stored: true, show: false }]);
  // A live receipt comes once and is always shown.
  expect(outbox.receipts({ t: "delivered", items: [["bob", "m-00000002"]] })).toEqual([
    { id: "m-00000002", to: "bob", confirmed: frame("m-00000002"), stored: false, show: true },
  ]);
  expect(outbox.size).toBe(0);
  // After a logout receipts are held again until the next login is ready.
  await outbox.clear();
  expect(outbox.receipts({ t: "delivered", items: [["bob", "m-00000003"]] })).toEqual([]);
  expect(outbox.releaseReceipts().map((r) => r.id)).toEqual(["m-00000003"]);
});

Deno.test("Outbox: a failed background write of confirmations goes to onError", async () => {
  const disk = new MemoryStorage();
  const outbox = new Outbox();
  await outbox.attach(disk);
  await outbox.add(frame("m-00000001"));
  const failed = Promise.withResolvers<unknown>();
  outbox.onError = failed.resolve;
  disk.append = () => Promise.reject(new Error("disk gone"));
  outbox.remove("m-00000001"); // its confirmation is written within DONE_LINGER_MS
  // That timer does not keep a process alive (close() writes what is left): this one does.
  const keepAlive = setTimeout(() => failed.reject(new Error("no onError")), 10 * DONE_LINGER_MS);
  try {
    expect(await failed.promise).toMatchObject({ message: "disk gone" });
  } finally {
    clearTimeout(keepAlive);
  }
  await outbox.close(); // nothing left to write
});

Deno.test("Outbox: a message confirmed before its batch is written is never written", async () => {
  const disk = new MemoryStorage();
  const outbox = new Outbox();
  await outbox.attach(disk);
  const early = outbox.tryEnqueue(frame("m-00000001"))!;
  const kept = outbox.tryEnqueue(frame("m-00000002"))!;
  expect(kept).toBe(early); // one promise for the batch
  outbox.remove("m-00000001"); // the server stored it within the write linger
  await early;
  expect(disk.records).toEqual([{ add: frame("m-00000002") }]);
  // A confirmation of a message already on disk is written.
  outbox.remove("m-00000002");
  await outbox.flush();
  expect(disk.records).toEqual([{ add: frame("m-00000002") }, { done: ["m-00000002"] }]);
  // Only confirmed before the write: no record at all.
  const writes = disk.appends;
  outbox.tryEnqueue(frame("m-00000003"));
  outbox.remove("m-00000003");
  await outbox.flush();
  expect(disk.appends).toBe(writes);
  expect((await new Outbox().attach(disk)).map((f) => f.id)).toEqual([]);
});

Deno.test("Outbox: a batch keeps its order around a confirmed message, and a re-added id goes at most once", async () => {
  const disk = new MemoryStorage();
  const outbox = new Outbox();
  await outbox.attach(disk);
  for (const id of ["m-00000001", "m-00000002", "m-00000003"]) outbox.tryEnqueue(frame(id));
  outbox.remove("m-00000002");
  await outbox.flush();
  expect(disk.records).toEqual([{ add: frame("m-00000001") }, { add: frame("m-00000003") }]);
  // The same id queued twice within one linger, then confirmed: no record of either.
  outbox.tryEnqueue(frame("m-00000004"));
  outbox.tryEnqueue(frame("m-00000004"));
  expect(outbox.size).toBe(3);
  outbox.remove("m-00000004");
  await outbox.flush();
  expect(disk.records.length).toBe(2);
  expect((await new Outbox().attach(disk)).map((f) => f.id)).toEqual(["m-00000001", "m-00000003"]);
});

Deno.test("Outbox: a failed batch write reports its messages once, through onWriteFailed", async () => {
  const disk = new MemoryStorage();
  disk.append = () => Promise.reject(new Error("disk full"));
  const outbox = new Outbox();
  await outbox.attach(disk);
  const failed: string[] = [];
  outbox.onWriteFailed = (frames) => failed.push(...frames.map((f) => f.id));
  const written = outbox.tryEnqueue(frame("m-00000001"))!;
  outbox.tryEnqueue(frame("m-00000002"));
  await expect(written).rejects.toThrow("disk full");
  expect(failed).toEqual(["m-00000001", "m-00000002"]);
  expect(outbox.size).toBe(0);
  // Full: no room without waiting.
  const small = new Outbox({ maxPending: 1 });
  expect(small.tryEnqueue(frame("m-00000003"))).not.toBeNull();
  expect(small.tryEnqueue(frame("m-00000004"))).toBeNull();
});
