import { expect } from "expect";
import {
  embeddedDatabaseUrl,
  generatePassword,
  loadOrCreatePassword,
  PASSWORD_FILE,
  readPassword,
  readPasswordSync,
  withPassword,
} from "./credentials.ts";
import { makePrivateDir, permissionBits } from "./private_dir.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fc_cred_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("generatePassword: 32 random bytes as base64url", () => {
  const a = generatePassword();
  expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(generatePassword()).not.toBe(a);
});

Deno.test("loadOrCreatePassword: created once (0600 in a 0700 dir), then the same", () =>
  withTempDir(async (root) => {
    const dir = `${root}/a/b`;
    const [p1, p2] = await Promise.all([loadOrCreatePassword(dir), loadOrCreatePassword(dir)]);
    expect(p1).toBe(p2);
    expect(await loadOrCreatePassword(dir)).toBe(p1);
    expect(await readPassword(dir)).toBe(p1);
    expect(readPasswordSync(dir)).toBe(p1);
    if (Deno.build.os !== "windows") {
      expect(await permissionBits(dir)).toBe(0o700);
      expect(await permissionBits(`${dir}/${PASSWORD_FILE}`)).toBe(0o600);
    }
  }));

Deno.test("embeddedDatabaseUrl: the listen URL plus the kept password", () =>
  withTempDir(async (dir) => {
    const listen = "postgres://postgres@127.0.0.1:7432/postgres";
    const missing = await embeddedDatabaseUrl(listen, dir).catch((e) => e);
    expect(missing.code).toBe("STORE_UNAVAILABLE");
    const password = await loadOrCreatePassword(dir);
    expect(await embeddedDatabaseUrl(listen, dir)).toBe(
      `postgres://postgres:${password}@127.0.0.1:7432/postgres`,
    );
    expect(withPassword("postgres://postgres@[::1]:1/x", "a/b@c")).toBe(
      "postgres://postgres:a%2Fb%40c@[::1]:1/x",
    );
    expect(() => withPassword("not a url", "x")).toThrow(/not a database URL/);
  }));

Deno.test("a malformed or oversized password file is INVALID_CONFIG", () =>
  withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/${PASSWORD_FILE}`, "two words\n");
    expect((await readPassword(dir).catch((e) => e)).code).toBe("INVALID_CONFIG");
    expect(() => readPasswordSync(dir)).toThrow(/printable/);
    await Deno.writeTextFile(`${dir}/${PASSWORD_FILE}`, "x".repeat(5000));
    expect((await loadOrCreatePassword(dir).catch((e) => e)).code).toBe("INVALID_CONFIG");
    expect(() => readPasswordSync(dir)).toThrow(/not a password file/);
  }));

Deno.test({
  name: "makePrivateDir: fixes an existing 0755 tree, leaves symlink targets alone",
  ignore: Deno.build.os === "windows",
  fn: () =>
    withTempDir(async (root) => {
      const outside = `${root}/outside`;
      await Deno.writeTextFile(outside, "shared");
      await Deno.chmod(outside, 0o644);
      const dir = `${root}/data`;
      await Deno.mkdir(`${dir}/sub`, { recursive: true });
      await Deno.writeTextFile(`${dir}/sub/file`, "x");
      await Deno.chmod(`${dir}/sub/file`, 0o755);
      await Deno.chmod(`${dir}/sub`, 0o755);
      await Deno.chmod(dir, 0o755);
      await Deno.symlink(outside, `${dir}/link`);
      await makePrivateDir(dir);
      expect(await permissionBits(dir)).toBe(0o700);
      expect(await permissionBits(`${dir}/sub`)).toBe(0o700);
      expect(await permissionBits(`${dir}/sub/file`)).toBe(0o700);
      expect(await permissionBits(outside)).toBe(0o644);
      await Deno.writeTextFile(`${root}/plain`, "x");
      expect((await makePrivateDir(`${root}/plain`).catch((e) => e)).code).toBe("INVALID_CONFIG");
    }),
});
