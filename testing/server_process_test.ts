import { expect } from "expect";
import { openTestDb } from "./test_db.ts";
import { startServerProcess } from "./server_process.ts";

Deno.test("startServerProcess: a real server, killed, restarted with the same id and port", async () => {
  const db = await openTestDb("pglite");
  try {
    const first = await startServerProcess(db.url);
    expect(first.host).toBe("127.0.0.1");
    expect(first.port).toBeGreaterThan(0);
    expect(first.id).not.toBe("");
    (await Deno.connect({ hostname: first.host, port: first.port })).close();
    first.proc.kill("SIGKILL");
    expect((await first.proc.exited).signal).toBe("SIGKILL");

    const again = await startServerProcess(db.url, { port: first.port, id: first.id });
    try {
      expect({ id: again.id, port: again.port }).toEqual({ id: first.id, port: first.port });
    } finally {
      expect((await again.proc.stop()).code).toBe(0); // SIGTERM: a clean exit
    }
  } finally {
    await db.close();
  }
});
