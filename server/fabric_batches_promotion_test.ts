/**
 * What a turn's fabric batches held dies young: no dead old-generation
 * table keeps it reachable through scavenges (see `FabricBatches`).
 */
import { expect } from "expect";
import { fileURLToPath } from "node:url";

Deno.test("FabricBatches: a sent batch's messages die in the next scavenge", async () => {
  const script = fileURLToPath(new URL("./testdata/fabric_batches_promotion.ts", import.meta.url));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--v8-flags=--expose-gc", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  expect({ code: out.code, text, stderr: new TextDecoder().decode(out.stderr) })
    .toEqual({ code: 0, text: "collected", stderr: "" });
});
