/** `deno bench lib/crypto/safety_number_bench.ts`: cost of a safety number (two SHA-512 chains). */
import { generateIdentity } from "./identity.ts";
import { exportPublicKeys } from "./public_keys.ts";
import { safetyNumber } from "./safety_number.ts";

const alice = { user: "alice", keys: await exportPublicKeys(await generateIdentity()) };
const bob = { user: "bob", keys: await exportPublicKeys(await generateIdentity()) };

Deno.bench("safetyNumber(alice, bob)", async () => {
  await safetyNumber(alice, bob);
});
