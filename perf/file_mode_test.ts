import { expect } from "expect";
import { createHash } from "node:crypto";
import { checkReceivedFile, parseFileSize, writeTestFile } from "./file_mode.ts";

Deno.test("parseFileSize: binary and decimal units, at most 100 MiB", () => {
  expect(parseFileSize("1MiB")).toBe(1 << 20);
  expect(parseFileSize("100MiB")).toBe(100 << 20);
  expect(parseFileSize("2MB")).toBe(2_000_000);
  expect(parseFileSize("4096")).toBe(4096);
  expect(() => parseFileSize("101MiB")).toThrow(/at most 100MiB/);
  expect(() => parseFileSize("0")).toThrow(/whole size/);
  expect(() => parseFileSize("big")).toThrow(/whole size/);
});

Deno.test("writeTestFile: seeded content named after its SHA-256; checkReceivedFile", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fastchat-file-mode-" });
  try {
    const bytes = (1 << 20) + 13; // not a whole number of write steps
    const a = await writeTestFile(dir, "u-0", bytes);
    const data = await Deno.readFile(a.path);
    expect(data.length).toBe(bytes);
    const sha = createHash("sha256").update(data).digest("hex");
    expect(a.sha256).toBe(sha);
    expect(a.name).toBe(`u-0-${sha}.bin`);
    // Same key, same bytes; another key, other bytes.
    const again = await writeTestFile(`${dir}`, "u-0", bytes);
    expect(again.sha256).toBe(sha);
    expect((await writeTestFile(dir, "u-1", bytes)).sha256).not.toBe(sha);

    expect(checkReceivedFile({ name: a.name, bytes, sha256: sha }, bytes)).toBeNull();
    const renamed = a.name.replace(/\.bin$/, " (1).bin");
    expect(checkReceivedFile({ name: renamed, bytes, sha256: sha }, bytes)).toBeNull();
    expect(checkReceivedFile({ name: a.name, bytes: bytes - 1, sha256: sha }, bytes))
      .toMatch(/expected/);
    expect(checkReceivedFile({ name: a.name, bytes, sha256: "0".repeat(64) }, bytes))
      .toMatch(/does not match/);
    expect(checkReceivedFile({ name: "photo.png", bytes, sha256: sha }, bytes))
      .toMatch(/no SHA-256/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
