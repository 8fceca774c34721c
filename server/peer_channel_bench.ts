import { encodePeerFrame, type ForwardedMessage } from "./peer_protocol.ts";
import { ChannelEphemeral } from "./peer_channel.ts";

const a = new ChannelEphemeral(), b = new ChannelEphemeral();
const t = new Uint8Array(8);
const tx = a.derive(b.publicKey, t, "connector"), rx = b.derive(a.publicKey, t, "acceptor");
// A typical batched fwd frame: 32 messages of ~300-byte client payloads.
const msgs: ForwardedMessage[] = Array.from({ length: 32 }, (_, i) => [
  `m${String(i).padStart(20, "0")}`,
  "alice",
  "bob",
  crypto.getRandomValues(new Uint8Array(300)),
]);
const frame = encodePeerFrame({ t: "fwd", origin: "server-1", msgs });
const small = encodePeerFrame({ t: "fwd", origin: "server-1", msgs: msgs.slice(0, 1) });

Deno.bench(`seal+open fwd frame of 32 msgs (${frame.length} B)`, () => {
  rx.open(tx.seal(frame));
});
Deno.bench(`seal+open fwd frame of 1 msg (${small.length} B)`, () => {
  rx.open(tx.seal(small));
});
