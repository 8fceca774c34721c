import { expect } from "expect";
import { encodeFrame, FrameDecoder } from "@fastchat/lib/frame";
import { msgpackCodec } from "@fastchat/lib/msgpack_codec";
import { encodePayload } from "@fastchat/lib/protocol";
import { RawPeer } from "./raw_peer.ts";

Deno.test("RawPeer sends unchecked frames, collects the answers and sees the close", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const conn = await listener.accept();
    const dec = new FrameDecoder(1024);
    const buf = new Uint8Array(1024);
    const got: unknown[] = [];
    while (got.length === 0) {
      const n = await conn.read(buf);
      if (n === null) break;
      for (const f of dec.push(buf.subarray(0, n))) got.push(msgpackCodec().unpack(f));
    }
    const pong = encodeFrame(encodePayload({ t: "pong", rid: 1 }));
    const error = encodeFrame(encodePayload({ t: "error", code: "BAD_REQUEST", message: "no" }));
    await conn.write(new Uint8Array([...pong, ...error]));
    conn.close();
    return got;
  })();
  const peer = await RawPeer.connect("127.0.0.1", (listener.addr as Deno.NetAddr).port);
  try {
    await peer.send({ t: "nonsense", x: 1 }); // no client-side validation
    const err = await peer.waitFrame((f) => f.t === "error");
    expect(err).toMatchObject({ code: "BAD_REQUEST" });
    expect(peer.frames.map((f) => f.t)).toEqual(["pong", "error"]);
    await peer.closed;
    expect(peer.ended).toBe(true);
    await expect(peer.waitFrame((f) => f.t === "msg", 1_000)).rejects.toThrow(
      "0/1 matching frames (ended=true); got pong,error:BAD_REQUEST",
    );
    await peer.write(new Uint8Array([1])); // errors of a closed socket are ignored
    expect(await served).toEqual([{ t: "nonsense", x: 1 }]);
  } finally {
    peer.close();
    listener.close();
  }
});
