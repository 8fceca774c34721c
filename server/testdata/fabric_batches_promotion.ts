/**
 * Run with `--v8-flags=--expose-gc` (server/fabric_batches_promotion_test.ts):
 * prints "collected" when a message that went out in a batch died in the
 * next scavenge, "kept" when something dead in the old generation still
 * held it (it would be promoted, and a mark-compact would be needed to
 * free it).
 */
import { FabricBatches } from "../fabric_batches.ts";

const gc = (globalThis as { gc?: (o?: { type: "minor" }) => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");
const endOfTurn = () => new Promise<void>((r) => setTimeout(r, 0));

const batches = new FabricBatches({ budget: 1 << 20, reachable: () => true, send: () => true });
gc();
gc(); // the batcher now lives in the old generation, as a server's does
batches.of("srv-2").fwd.push(["m-0", "alice", "bob", new Uint8Array(1)]);
await endOfTurn(); // a first turn, as on a busy server

let message: Uint8Array | null = new Uint8Array(100);
const ref = new WeakRef(message);
batches.of("srv-2").fwd.push(["m-1", "alice", "bob", message]);
message = null;
await endOfTurn(); // sent
gc({ type: "minor" });
await endOfTurn(); // a weak reference is cleared only after the current job
gc({ type: "minor" });
await endOfTurn();
console.log(ref.deref() === undefined ? "collected" : "kept");
