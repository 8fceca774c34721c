import { expect } from "expect";
import { MIGRATION_FILES, parseMigrationFile } from "./migrations.ts";

Deno.test("MIGRATION_FILES equals the .sql files in db/migrations, in order", async () => {
  const dir = new URL("./migrations/", import.meta.url);
  const onDisk: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".sql")) onDisk.push(e.name);
  }
  onDisk.sort();
  expect([...MIGRATION_FILES]).toEqual(onDisk);
});

Deno.test("migration file names are NNNN_name.sql with increasing versions", () => {
  let prev = 0;
  for (const file of MIGRATION_FILES) {
    const parsed = parseMigrationFile(file);
    expect(parsed).toBeDefined();
    expect(parsed!.version).toBeGreaterThan(prev);
    prev = parsed!.version;
  }
  expect(parseMigrationFile("0001_init.sql")).toEqual({ version: 1, name: "init" });
  expect(parseMigrationFile("1_init.sql")).toBeUndefined();
  expect(parseMigrationFile("0002_Bad-Name.sql")).toBeUndefined();
});
