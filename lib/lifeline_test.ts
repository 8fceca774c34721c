/** watchLifeline in real child processes: end of stdin means the parent is gone. */
import { expect } from "expect";
import { LIFELINE_ENV } from "./lifeline.ts";

const child = `
import { watchLifeline } from ${JSON.stringify(new URL("./lifeline.ts", import.meta.url).href)};
const watching = watchLifeline(() => {
  console.log("parent gone");
  Deno.exit(0);
});
console.log(JSON.stringify({ watching, env: Deno.env.get(${
  JSON.stringify(LIFELINE_ENV)
}) ?? null }));
if (!watching) Deno.exit(3);
`;

function spawnChild(env: Record<string, string>): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", child],
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

async function readLines(p: Deno.ChildProcess): Promise<string[]> {
  const text = await new Response(p.stdout).text();
  return text.split("\n").filter((l) => l !== "");
}

Deno.test("lifeline: the child stops when its stdin ends, and hides the variable from its own children", async () => {
  const p = spawnChild({ [LIFELINE_ENV]: "1" });
  const lines = readLines(p);
  const writer = p.stdin.getWriter();
  await writer.write(new TextEncoder().encode("ignored\n")); // input is not an end
  await writer.close(); // what the kernel does when the parent dies
  expect(await lines).toEqual([JSON.stringify({ watching: true, env: null }), "parent gone"]);
  expect((await p.status).code).toBe(0);
});

Deno.test("lifeline: without the variable nothing is watched", async () => {
  const p = spawnChild({});
  const lines = readLines(p);
  const status = await p.status; // exits 3 on its own: watchLifeline returned false
  await p.stdin.close().catch(() => {});
  expect(await lines).toEqual([JSON.stringify({ watching: false, env: null })]);
  expect(status.code).toBe(3);
});
