import { expect } from "expect";
import {
  closeStatementMessage,
  errorResponse,
  FrontendReader,
  message,
  parseMessage,
  queryMessage,
  readCString,
  SSL_REQUEST_CODE,
  syncMessage,
  WireError,
} from "./wire.ts";
import { startupMessage } from "./test_util.ts";

function sslRequest(): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setInt32(0, 8);
  new DataView(b.buffer).setInt32(4, SSL_REQUEST_CODE);
  return b;
}

function concatAll(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("FrontendReader splits startup packets then tagged messages", () => {
  const r = new FrontendReader();
  const stream = concatAll([
    sslRequest(),
    startupMessage({ user: "postgres" }),
    queryMessage("select 1"),
    parseMessage("s1", "select $1"),
    syncMessage(),
  ]);
  const got = r.push(stream);
  expect(got.map((m) => m.type)).toEqual([0, 0, 0x51, 0x50, 0x53]);
  expect(got[0].code).toBe(SSL_REQUEST_CODE);
  expect(got[1].code).toBe(196608);
  expect(r.inStartup).toBe(false);
  expect(concatAll(got.map((m) => m.bytes))).toEqual(stream);
});

Deno.test("FrontendReader reassembles messages split at every byte boundary", () => {
  const stream = concatAll([
    startupMessage({ user: "postgres", database: "postgres" }),
    queryMessage("select 'a fairly long query text'"),
    syncMessage(),
    message("B", "", "s1", new Uint8Array(6)),
  ]);
  for (let cut = 1; cut < stream.length; cut++) {
    const r = new FrontendReader();
    const got = [...r.push(stream.slice(0, cut)), ...r.push(stream.slice(cut))];
    expect(got.length).toBe(4);
    expect(concatAll(got.map((m) => m.bytes))).toEqual(stream);
  }
  // one byte at a time
  const r = new FrontendReader();
  const got = [];
  for (const b of stream) got.push(...r.push(new Uint8Array([b])));
  expect(concatAll(got.map((m) => m.bytes))).toEqual(stream);
});

Deno.test("FrontendReader rejects oversized and malformed messages", () => {
  const r = new FrontendReader({ startup: false, maxMessageBytes: 1024 });
  const header = new Uint8Array(5);
  header[0] = 0x51;
  new DataView(header.buffer).setInt32(1, 2000);
  expect(() => r.push(header)).toThrow(WireError);
  expect(() => r.push(header)).toThrow(/exceeds the limit/);

  const bad = new Uint8Array(5);
  bad[0] = 0x51;
  new DataView(bad.buffer).setInt32(1, 2);
  expect(() => new FrontendReader({ startup: false }).push(bad)).toThrow(/invalid message length/);

  const hugeStartup = new Uint8Array(8);
  new DataView(hugeStartup.buffer).setInt32(0, 1_000_000);
  expect(() => new FrontendReader().push(hugeStartup)).toThrow(/startup packet/);
});

Deno.test("FrontendReader default limit is 64 MiB", () => {
  const r = new FrontendReader({ startup: false });
  const ok = new Uint8Array(5);
  ok[0] = 0x51;
  new DataView(ok.buffer).setInt32(1, 64 * 1024 * 1024 - 1);
  expect(r.push(ok)).toEqual([]); // accepted, waiting for the body
  const tooBig = new Uint8Array(5);
  tooBig[0] = 0x51;
  new DataView(tooBig.buffer).setInt32(1, 64 * 1024 * 1024);
  expect(() => new FrontendReader({ startup: false }).push(tooBig)).toThrow(WireError);
});

Deno.test("message builders produce well-formed messages", () => {
  expect(syncMessage()).toEqual(new Uint8Array([0x53, 0, 0, 0, 4]));
  const q = queryMessage("select 1");
  expect(q[0]).toBe(0x51);
  expect(new DataView(q.buffer).getInt32(1)).toBe(q.length - 1);
  expect(readCString(q, 5)).toEqual(["select 1", q.length]);
  const p = parseMessage("n", "select 2");
  expect(readCString(p, 5)).toEqual(["n", 7]);
  expect(readCString(p, 7)[0]).toBe("select 2");
  expect(p.slice(-2)).toEqual(new Uint8Array(2));
  const c = closeStatementMessage("n");
  expect(String.fromCharCode(c[0], c[5])).toBe("CS");
  const e = errorResponse("FATAL", "08P01", "boom");
  const text = new TextDecoder().decode(e.subarray(5));
  expect(text).toBe("SFATAL\0VFATAL\0C08P01\0Mboom\0\0");
});

Deno.test("FrontendReader: a header alone never allocates the size it declares", () => {
  // 200 connections each announcing a 64 MiB message and sending 5 bytes of
  // it: before, each reader allocated the whole 64 MiB at once (12.5 GiB).
  const header = new Uint8Array([0x51, 0x03, 0xff, 0xff, 0xf0, 0x53]);
  const readers = Array.from({ length: 200 }, () => new FrontendReader({ startup: false }));
  const before = Deno.memoryUsage().external;
  for (const r of readers) expect(r.push(header)).toEqual([]);
  const grown = Deno.memoryUsage().external - before;
  expect(grown).toBeLessThan(16 * 1024 * 1024);
  // and a message split over many chunks is still assembled exactly
  const r = new FrontendReader({ startup: false });
  const q = queryMessage("select 'x'");
  const out = [];
  for (let i = 0; i < q.length; i++) out.push(...r.push(q.subarray(i, i + 1)));
  expect(out.length).toBe(1);
  expect(out[0].bytes).toEqual(q);
});

Deno.test("FrontendReader: negative and huge declared lengths are WireErrors before any allocation", () => {
  for (const len of [-1, -0x80000000, 0x7fffffff]) {
    const tagged = new Uint8Array(5);
    tagged[0] = 0x51;
    new DataView(tagged.buffer).setInt32(1, len);
    expect(() => new FrontendReader({ startup: false }).push(tagged)).toThrow(WireError);
    const startup = new Uint8Array(8);
    new DataView(startup.buffer).setInt32(0, len);
    expect(() => new FrontendReader().push(startup)).toThrow(WireError);
  }
  // the same header arriving one byte at a time
  const r = new FrontendReader({ startup: false });
  expect(() => {
    for (const b of [0x51, 0x7f, 0xff, 0xff, 0xff]) r.push(new Uint8Array([b]));
  }).toThrow(WireError);
});
