import { expect } from "expect";
import { FASTCHAT_VERSION } from "./version.ts";

Deno.test("FASTCHAT_VERSION is the version of every versioned workspace package", async () => {
  const root = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const checked: string[] = [];
  for (const m of root.workspace as string[]) {
    const manifest = JSON.parse(
      await Deno.readTextFile(new URL(`../${m}/deno.json`, import.meta.url)),
    );
    if (manifest.version === undefined) continue; // a private package, never released
    expect({ package: manifest.name, version: manifest.version })
      .toEqual({ package: manifest.name, version: FASTCHAT_VERSION });
    checked.push(manifest.name);
  }
  expect(checked).toEqual(expect.arrayContaining(["@fastchat/lib", "@fastchat/server"]));
});
