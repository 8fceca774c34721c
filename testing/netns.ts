/**
 * Separate hosts for tests, on one machine: a {@link NetLab} puts each named
 * host in its own Linux network namespace with one veth "cable" to a bridge
 * (the "switch"), which itself lives in a namespace of its own. Every host
 * has its own address on a private /24; loopback is left down, so nothing
 * can reach another host through 127.0.0.1. {@link NetLab.cutLink} takes a
 * host's switch port out of forwarding (the bridge port is disabled; both
 * veth ends stay up): packets are dropped silently, so open TCP connections
 * stall as after a cable cut further away, and are not reset.
 *
 * The switch namespace keeps every lab off the machine's own network, so
 * labs of tests running in parallel never see each other and may even use
 * the same subnet. Namespace names carry the creating process id; each new
 * lab first removes what labs of processes that no longer exist left behind
 * (a crashed run), and {@link NetLab.close} removes its own.
 *
 * Needs root and iproute2's `ip` and `bridge` ({@link netLabUnavailable}).
 *
 * @example
 * ```ts
 * import { NetLab } from "@fastchat/testing";
 * const lab = await NetLab.create(["db", "app"]);
 * try {
 *   const child = lab.command("app", ["deno", "--version"]).spawn();
 *   await child.status;
 *   await lab.cutLink("app");
 *   await lab.restoreLink("app");
 * } finally {
 *   await lab.close();
 * }
 * ```
 * @module
 */

/** Prefix of every namespace a lab creates: `fcnet-<pid>-<lab>-<host>`. */
export const NETNS_PREFIX = "fcnet-";

const NAME_RE = /^[a-z][a-z0-9]{0,5}$/;

/** One host of a lab: its namespace and address. */
export interface LabHost {
  /** The name given to {@link NetLab.create}. */
  name: string;
  /** The network namespace it lives in. */
  ns: string;
  /** Its IPv4 address. */
  address: string;
  /** Its port on the switch (in the switch namespace). */
  port: string;
}

async function run(cmd: string, args: string[], okCodes: number[] = [0]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!okCodes.includes(out.code)) {
    const err = new TextDecoder().decode(out.stderr).trim();
    throw new Error(`${cmd} ${args.join(" ")} failed (${out.code}): ${err}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/**
 * Why a {@link NetLab} cannot be built here (not root, no `ip`/`bridge`, or
 * namespaces refused), or null when it can.
 *
 * @example
 * ```ts
 * import { netLabUnavailable } from "@fastchat/testing";
 * const why = await netLabUnavailable();
 * if (why) console.log(`skipped: ${why}`);
 * ```
 */
export async function netLabUnavailable(): Promise<string | null> {
  if (Deno.build.os !== "linux") return "network namespaces need Linux";
  if (Deno.uid() !== 0) return "network namespaces need root";
  for (const tool of ["ip", "bridge"]) {
    try {
      await run(tool, ["-V"]);
    } catch {
      return `iproute2's \`${tool}\` is not installed`;
    }
  }
  const probe = `${NETNS_PREFIX}${Deno.pid}-probe${randomHex(2)}`;
  try {
    await run("ip", ["netns", "add", probe]);
    await run("ip", ["netns", "del", probe]);
  } catch (e) {
    return `cannot create a network namespace: ${(e as Error).message}`;
  }
  return null;
}

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

function processExists(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** The lab namespaces on this machine: name and the pid that created it. */
async function labNamespaces(): Promise<{ ns: string; pid: number }[]> {
  const out = await run("ip", ["netns", "list"]);
  return out.split("\n").map((l) => l.split(" ")[0]).filter((n) => n.startsWith(NETNS_PREFIX))
    .map((ns) => ({ ns, pid: Number(ns.slice(NETNS_PREFIX.length).split("-")[0]) }));
}

/** Kills what still runs in `ns` (by pid), then deletes it. */
async function removeNamespace(ns: string): Promise<void> {
  const pids = (await run("ip", ["netns", "pids", ns], [0, 1])).split("\n").filter((p) => p);
  for (const pid of pids) {
    try {
      Deno.kill(Number(pid), "SIGKILL");
    } catch {
      // It exited meanwhile: nothing left to stop.
    }
  }
  await run("ip", ["netns", "del", ns], [0, 1]);
}

/**
 * Removes the namespaces of labs whose creating process is gone (a test run
 * that crashed or was killed), with whatever still runs in them. Labs of
 * running processes are left alone. Resolves with the names removed.
 *
 * @example
 * ```ts
 * import { removeLeftoverLabs } from "@fastchat/testing";
 * console.log(await removeLeftoverLabs());
 * ```
 */
export async function removeLeftoverLabs(): Promise<string[]> {
  const gone = (await labNamespaces()).filter((n) => !processExists(n.pid));
  for (const { ns } of gone) await removeNamespace(ns);
  return gone.map((n) => n.ns);
}

/**
 * A switch and hosts wired to it, each host in its own network namespace.
 *
 * @example
 * ```ts
 * import { NetLab } from "@fastchat/testing";
 * const lab = await NetLab.create(["a", "b"]);
 * console.log(lab.host("a").address, lab.host("b").ns);
 * await lab.close();
 * ```
 */
export class NetLab {
  readonly #switchNs: string;
  readonly #hosts: Map<string, LabHost>;
  #closed = false;

  private constructor(switchNs: string, hosts: Map<string, LabHost>) {
    this.#switchNs = switchNs;
    this.#hosts = hosts;
  }

  /**
   * Creates the switch and one namespace per name (lower-case letters and
   * digits, at most 6), host `i` at `10.77.<random>.<i + 2>/24`. On failure
   * everything created so far is removed.
   */
  static async create(names: string[]): Promise<NetLab> {
    for (const n of names) {
      if (!NAME_RE.test(n)) throw new Error(`host name ${JSON.stringify(n)}: want ${NAME_RE}`);
    }
    if (new Set(names).size !== names.length) throw new Error("host names must differ");
    if (names.length > 250) throw new Error("at most 250 hosts");
    await removeLeftoverLabs();
    const lab = `${NETNS_PREFIX}${Deno.pid}-${randomHex(3)}`;
    const subnet = `10.77.${crypto.getRandomValues(new Uint8Array(1))[0]}`;
    const hosts = new Map<string, LabHost>(names.map((name, i) => [name, {
      name,
      ns: `${lab}-${name}`,
      address: `${subnet}.${i + 2}`,
      port: `p${i}`,
    }]));
    const self = new NetLab(`${lab}-sw`, hosts);
    try {
      const sw = self.#switchNs;
      await run("ip", ["netns", "add", sw]);
      await run("ip", ["-n", sw, "link", "add", "br0", "type", "bridge"]);
      await run("ip", ["-n", sw, "link", "set", "br0", "up"]);
      for (const h of hosts.values()) {
        await run("ip", ["netns", "add", h.ns]);
        // Created inside the switch namespace, its peer born inside the
        // host's: no name ever lives in the machine's own namespace.
        await run("ip", [
          ...["-n", sw, "link", "add", h.port, "type", "veth"],
          ...["peer", "name", "eth0", "netns", h.ns],
        ]);
        await run("ip", ["-n", sw, "link", "set", h.port, "master", "br0"]);
        await run("ip", ["-n", sw, "link", "set", h.port, "up"]);
        await run("ip", ["-n", h.ns, "addr", "add", `${h.address}/24`, "dev", "eth0"]);
        await run("ip", ["-n", h.ns, "link", "set", "eth0", "up"]);
      }
      // The bridge moves a port to forwarding when it sees the carrier,
      // which the kernel reports asynchronously (link watch, up to ~1 s). A
      // cut made before that would be undone by it: wait for every port.
      for (const h of hosts.values()) await self.#awaitPortState(h, "forwarding");
    } catch (e) {
      await self.close();
      throw e;
    }
    return self;
  }

  /** The host named `name` (throws for an unknown name). */
  host(name: string): LabHost {
    const h = this.#hosts.get(name);
    if (!h) throw new Error(`no host ${JSON.stringify(name)} in this lab`);
    return h;
  }

  /** The namespace of the switch (the bridge and every host's port). */
  get switchNs(): string {
    return this.#switchNs;
  }

  /** Every host, in creation order. */
  get hosts(): LabHost[] {
    return [...this.#hosts.values()];
  }

  /**
   * `ip netns exec <ns> ...cmd` as a command to spawn (`cmd[0]` is looked
   * up on PATH; use `Deno.execPath()` for this Deno).
   */
  command(name: string, cmd: string[], opts: Omit<Deno.CommandOptions, "args"> = {}): Deno.Command {
    return new Deno.Command("ip", { ...opts, args: ["netns", "exec", this.host(name).ns, ...cmd] });
  }

  /**
   * The arguments of `ip` that run `cmd` on host `name`, for spawners that
   * take a command and arguments (such as `ManagedProcess`).
   */
  execArgs(name: string, cmd: string[]): string[] {
    return ["netns", "exec", this.host(name).ns, ...cmd];
  }

  /** Cuts host `name` off the switch: its packets are dropped both ways, silently. */
  async cutLink(name: string): Promise<void> {
    await this.#portState(name, "0"); // disabled
  }

  /** Puts host `name` back on the switch. */
  async restoreLink(name: string): Promise<void> {
    await this.#portState(name, "3"); // forwarding
  }

  async #portState(name: string, state: "0" | "3"): Promise<void> {
    const host = this.host(name);
    await run("bridge", ["-n", this.#switchNs, "link", "set", "dev", host.port, "state", state]);
    await this.#awaitPortState(host, state === "0" ? "disabled" : "forwarding");
  }

  /**
   * Resolves once the bridge reports `state` for the host's port (polled:
   * the kernel has no event to await for it); throws after 5 s.
   */
  async #awaitPortState(host: LabHost, state: "disabled" | "forwarding"): Promise<void> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const out = await run("bridge", [
        "-n",
        this.#switchNs,
        "-j",
        "link",
        "show",
        "dev",
        host.port,
      ]);
      const [port] = JSON.parse(out) as { state?: string; flags?: string[] }[];
      const carrier = port?.flags?.includes("LOWER_UP") ?? false;
      if (port?.state === state && (state === "disabled" || carrier)) return;
      if (Date.now() > deadline) {
        throw new Error(`bridge port ${host.port} stayed ${port?.state}, not ${state}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * Kills what still runs in the lab's namespaces and removes them (the
   * veth pairs and the bridge go with them). Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const errors: unknown[] = [];
    for (const ns of [...[...this.#hosts.values()].map((h) => h.ns), this.#switchNs]) {
      try {
        await removeNamespace(ns);
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length) throw new AggregateError(errors, "could not remove every namespace");
  }
}
