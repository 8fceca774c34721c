import { expect } from "expect";
import {
  claimDownloadPath,
  FALLBACK_FILE_NAME,
  MAX_FILE_NAME_BYTES,
  safeFileName,
  splitExtension,
} from "./download_name.ts";

Deno.test("safeFileName keeps only a harmless last component", () => {
  expect(safeFileName("photo.png")).toBe("photo.png");
  expect(safeFileName("../../etc/passwd")).toBe("passwd");
  expect(safeFileName("..\\..\\boot.ini")).toBe("boot.ini");
  expect(safeFileName("/abs/path/x")).toBe("x");
  expect(safeFileName("..")).toBe(FALLBACK_FILE_NAME);
  expect(safeFileName(".")).toBe(FALLBACK_FILE_NAME);
  expect(safeFileName("")).toBe(FALLBACK_FILE_NAME);
  expect(safeFileName("dir/")).toBe(FALLBACK_FILE_NAME);
  expect(safeFileName("a\u0000b\nc\u001b[31m.txt")).toBe("abc[31m.txt");
  expect(safeFileName("invoice\u202Efdp.exe")).toBe("invoicefdp.exe");
  expect(safeFileName("  .hidden  ")).toBe("hidden");
  expect(safeFileName("ok name (2).tar.gz")).toBe("ok name (2).tar.gz");
});

Deno.test("safeFileName bounds the length in bytes and keeps the extension", () => {
  const long = "é".repeat(400) + ".jpeg";
  const s = safeFileName(long);
  expect(new TextEncoder().encode(s).length).toBeLessThanOrEqual(MAX_FILE_NAME_BYTES);
  expect(s.endsWith(".jpeg")).toBe(true);
  expect(s.includes("\uFFFD")).toBe(false);
});

Deno.test("splitExtension treats a leading dot as part of the stem", () => {
  expect(splitExtension("a.b.c")).toEqual({ stem: "a.b", ext: ".c" });
  expect(splitExtension(".profile")).toEqual({ stem: ".profile", ext: "" });
  expect(splitExtension("noext")).toEqual({ stem: "noext", ext: "" });
});

Deno.test("claimDownloadPath never reuses or overwrites a name", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/x.txt`, "precious");
    const paths = await Promise.all(
      Array.from({ length: 5 }, () => claimDownloadPath(dir, "../x.txt")),
    );
    expect(new Set(paths).size).toBe(5);
    expect(paths.sort()).toEqual(
      [1, 2, 3, 4, 5].map((n) => `${dir}/x (${n}).txt`).sort(),
    );
    expect(await Deno.readTextFile(`${dir}/x.txt`)).toBe("precious");
    expect(await claimDownloadPath(dir, "..")).toBe(`${dir}/file`);
    expect((await Deno.stat(`${dir}/file`)).mode! & 0o777).toBe(0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
