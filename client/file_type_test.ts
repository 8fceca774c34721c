import { expect } from "expect";
import { sniffFileType } from "./file_type.ts";

const fixture = (name: string) => Deno.readFile(new URL(`./testdata/${name}`, import.meta.url));

Deno.test("images are recognised from their content, with their pixel size", async () => {
  // Fixtures made with ImageMagick and cwebp (solid colours, known sizes).
  const cases: [string, string, number, number][] = [
    ["px.png", "image/png", 3, 2],
    ["alpha.png", "image/png", 9, 8],
    ["px.jpg", "image/jpeg", 5, 4],
    ["px.gif", "image/gif", 7, 6],
    ["lossy.webp", "image/webp", 11, 10],
    ["lossless.webp", "image/webp", 3, 2],
    ["alpha.webp", "image/webp", 9, 8],
  ];
  for (const [name, mime, width, height] of cases) {
    // The name lies on purpose: content decides.
    expect({ name, ...sniffFileType(await fixture(name), "document.pdf") })
      .toEqual({ name, mime, image: { width, height } });
  }
});

Deno.test("truncated or fake image headers are not images with made-up sizes", async () => {
  const png = await fixture("px.png");
  expect(sniffFileType(png.subarray(0, 20), "a.png")).toEqual({ mime: "application/octet-stream" });
  expect(sniffFileType(new Uint8Array([0xff, 0xd8, 0xff]), "x")).toEqual({
    mime: "application/octet-stream",
  });
  const jpg = await fixture("px.jpg");
  expect(sniffFileType(jpg.subarray(0, 30), "x").image).toBeUndefined();
  expect(sniffFileType(new TextEncoder().encode("GIF8"), "x.gif")).toEqual({
    mime: "application/octet-stream",
  });
});

Deno.test("other files are typed by extension, else octet-stream", () => {
  const text = new TextEncoder().encode("hello");
  expect(sniffFileType(text, "notes.TXT")).toEqual({ mime: "text/plain" });
  expect(sniffFileType(text, "report.pdf")).toEqual({ mime: "application/pdf" });
  expect(sniffFileType(text, "noext")).toEqual({ mime: "application/octet-stream" });
  expect(sniffFileType(new Uint8Array(0))).toEqual({ mime: "application/octet-stream" });
});
