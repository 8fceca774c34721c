import { expect } from "expect";
import { FastChatError } from "@fastchat/lib/errors";
import { UserHome } from "./user_home.ts";

const posix = Deno.build.os !== "windows";

Deno.test({
  name: "UserHome: an existing home is made private (0700); key files are 0600",
  ignore: !posix,
  async fn() {
    const root = await Deno.makeTempDir();
    try {
      await Deno.mkdir(`${root}/alice`, { mode: 0o755 });
      await Deno.chmod(`${root}/alice`, 0o755);
      const home = UserHome.at(root, "alice");
      await home.writeIdentity(new Uint8Array([1, 2, 3]));
      expect((await Deno.stat(home.dir)).mode! & 0o777).toBe(0o700);
      expect((await Deno.stat(`${home.dir}/identity.sealed`)).mode! & 0o777).toBe(0o600);
      expect(await home.readIdentity()).toEqual(new Uint8Array([1, 2, 3]));
      // no temporary file is left behind
      expect([...Deno.readDirSync(home.dir)].map((e) => e.name)).toEqual(["identity.sealed"]);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "UserHome: a home that cannot be made private refuses to hold keys (INVALID_CONFIG)",
  // /proc/self/fd exists and nobody, not even root, may change its mode.
  ignore: Deno.build.os !== "linux",
  async fn() {
    const home = UserHome.at("/proc/self", "fd");
    const err = await home.writeIdentity(new Uint8Array([1])).catch((e) => e);
    expect(err).toBeInstanceOf(FastChatError);
    expect(err.code).toBe("INVALID_CONFIG");
    expect(err.message).toContain("/proc/self/fd");
    expect(err.message).toContain("private keys");
    // the failure sticks: nothing is written there later either
    await expect(home.writeKdf({ salt: new Uint8Array(16), iter: 100_000 })).rejects
      .toMatchObject({ code: "INVALID_CONFIG" });
  },
});
