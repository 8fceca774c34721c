/**
 * The PostgreSQL backend processes serving a run's processes, when the run
 * uses an external PostgreSQL on this machine (`--db URL`): a backend's
 * process title is `postgres: [cluster: ]user db 127.0.0.1(PORT) state`,
 * where PORT is the client's port; the run's own TCP sockets (from
 * `/proc/<pid>/fd` and `/proc/net/tcp{,6}`) give the ports to look for.
 * A PostgreSQL on another host (or in another container) has no backends
 * here: the run's database CPU is then not measured ("external").
 *
 * @example
 * ```ts
 * import { postgresBackendPids } from "./pg_backends.ts";
 * const serverPids = [1234, 1235];
 * console.log(await postgresBackendPids(serverPids, 5432)); // e.g. [2001, 2002, 2007]
 * ```
 * @module
 */

/**
 * Local and remote ports of the TCP sockets in a `/proc/net/tcp` or
 * `/proc/net/tcp6` text, by socket inode.
 *
 * @example
 * ```ts
 * import { parseProcNetTcp } from "./pg_backends.ts";
 * const text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
 *   "   0: 0100007F:D431 0100007F:1538 01 00000000:00000000 00:00000000 00000000     0        0 98765 1";
 * parseProcNetTcp(text).get(98765); // { localPort: 54321, remotePort: 5432 }
 * ```
 */
export function parseProcNetTcp(
  text: string,
): Map<number, { localPort: number; remotePort: number }> {
  const out = new Map<number, { localPort: number; remotePort: number }>();
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = f[1].split(":"), remote = f[2].split(":");
    const inode = Number(f[9]);
    if (!inode) continue;
    out.set(inode, {
      localPort: parseInt(local[local.length - 1], 16),
      remotePort: parseInt(remote[remote.length - 1], 16),
    });
  }
  return out;
}

/**
 * The client port in a PostgreSQL backend's process title; null for any
 * other process (or a Unix-socket client).
 *
 * @example
 * ```ts
 * import { backendClientPort } from "./pg_backends.ts";
 * backendClientPort("postgres: 15/main: postgres perf 127.0.0.1(54321) idle"); // 54321
 * backendClientPort("postgres: 15/main: checkpointer"); // null
 * ```
 */
export function backendClientPort(cmdline: string): number | null {
  if (!cmdline.startsWith("postgres:")) return null;
  const m = /\s(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f.:]*|localhost)\((\d+)\)/.exec(cmdline);
  return m ? Number(m[1]) : null;
}

async function readOr(path: string, fallback: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return fallback;
  }
}

async function socketInodes(pid: number): Promise<number[]> {
  const out: number[] = [];
  try {
    for await (const e of Deno.readDir(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(await Deno.readLink(`/proc/${pid}/fd/${e.name}`));
        if (m) out.push(Number(m[1]));
      } catch { /* closed meanwhile */ }
    }
  } catch { /* exited */ }
  return out;
}

/**
 * Pids of the PostgreSQL backends whose clients are sockets of `clientPids`
 * connected to `dbPort`, ascending.
 *
 * @example
 * ```ts
 * import { postgresBackendPids } from "./pg_backends.ts";
 * await postgresBackendPids([Deno.pid], 5432); // our own connections' backends
 * ```
 */
export async function postgresBackendPids(clientPids: number[], dbPort: number): Promise<number[]> {
  const tcp = new Map([
    ...parseProcNetTcp(await readOr("/proc/net/tcp", "")),
    ...parseProcNetTcp(await readOr("/proc/net/tcp6", "")),
  ]);
  const ports = new Set<number>();
  for (const pid of clientPids) {
    for (const inode of await socketInodes(pid)) {
      const s = tcp.get(inode);
      if (s && s.remotePort === dbPort) ports.add(s.localPort);
    }
  }
  if (ports.size === 0) return [];
  const out: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const cmd = (await readOr(`/proc/${e.name}/cmdline`, "")).replaceAll("\0", " ");
    const port = backendClientPort(cmd);
    if (port !== null && ports.has(port)) out.push(Number(e.name));
  }
  return out.sort((a, b) => a - b);
}
