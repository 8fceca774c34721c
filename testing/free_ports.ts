/**
 * Ports for a test to hand to a process it starts, which must listen on a
 * port chosen beforehand (`deno task start --port P`). A port the kernel
 * gave to a listener bound to port 0 is an ephemeral one, and between its
 * release and the child's bind any outgoing connection of a test running in
 * parallel may take it as its local port (CI saw `--metrics-port`'s port
 * taken so). These come from below the ephemeral range instead
 * (20000–32767; Linux's starts at 32768), checked free by binding each.
 *
 * @example
 * ```ts
 * import { freePorts } from "@fastchat/testing";
 * const base = freePorts(3); // base, base + 1 and base + 2 were free a moment ago
 * ```
 * @module
 */

const LOW = 20_000;
const HIGH = 32_767;

/** `count` consecutive ports below the ephemeral range that were free a moment ago (the first). */
export function freePorts(count = 1): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = LOW + Math.floor(Math.random() * (HIGH - LOW - count));
    const held: Deno.Listener[] = [];
    try {
      for (let i = 0; i < count; i++) {
        held.push(Deno.listen({ hostname: "127.0.0.1", port: base + i }));
      }
      return base;
    } catch {
      // one of them is taken: try elsewhere
    } finally {
      for (const l of held) l.close();
    }
  }
  throw new Error(`no ${count} consecutive free ports in ${LOW}–${HIGH}`);
}
