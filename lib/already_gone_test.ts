import { expect } from "expect";
import { closeIfOpen, signalIfRunning } from "./already_gone.ts";

Deno.test("closeIfOpen: true, then false once closed; other errors surface", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const accepted = await listener.accept();
  for (const r of [conn, accepted, listener]) {
    expect(closeIfOpen(r)).toBe(true);
    expect(closeIfOpen(r)).toBe(false);
  }
  const broken = {
    close() {
      throw new Deno.errors.PermissionDenied("no");
    },
  };
  expect(() => closeIfOpen(broken)).toThrow(Deno.errors.PermissionDenied);
});

Deno.test("signalIfRunning: true while running, false after exit", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "setTimeout(() => {}, 60_000)"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  expect(signalIfRunning(child, "SIGTERM")).toBe(true);
  await child.status;
  expect(signalIfRunning(child, "SIGKILL")).toBe(false);
});
