import { expect } from "expect";
import { insertIntoMessage, StatementNamespace } from "./embedded_rewrite.ts";
import { message, parseMessage, queryMessage, readCString } from "./wire.ts";

const P = 0x50, B = 0x42, D = 0x44, C = 0x43, Q = 0x51;

function length(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getInt32(1);
}

Deno.test("insertIntoMessage inserts text and fixes the length header", () => {
  const out = insertIntoMessage(parseMessage("s1", "select 1"), 5, "fc9.");
  expect(length(out)).toBe(out.length - 1);
  expect(readCString(out, 5)[0]).toBe("fc9.s1");
  expect(readCString(out, 12)[0]).toBe("select 1");
});

Deno.test("StatementNamespace prefixes named statements and tracks them", () => {
  const ns = new StatementNamespace("fc1.");
  const parse = ns.rewrite(P, parseMessage("s1", "select 1"));
  expect(readCString(parse, 5)[0]).toBe("fc1.s1");
  expect([...ns.statements]).toEqual(["fc1.s1"]);

  const unnamed = parseMessage("", "select 2");
  expect(ns.rewrite(P, unnamed)).toBe(unnamed); // untouched, not tracked
  expect(ns.statements.size).toBe(1);

  const bind = ns.rewrite(B, message("B", "portal", "s1", new Uint8Array(6)));
  expect(readCString(bind, 12)[0]).toBe("fc1.s1");
  expect(length(bind)).toBe(bind.length - 1);
  const bindUnnamed = message("B", "", "", new Uint8Array(6));
  expect(ns.rewrite(B, bindUnnamed)).toBe(bindUnnamed);

  expect(readCString(ns.rewrite(D, message("D", "Ss1")), 6)[0]).toBe("fc1.s1");
  const describePortal = message("D", "Pportal");
  expect(ns.rewrite(D, describePortal)).toBe(describePortal);

  expect(readCString(ns.rewrite(C, message("C", "Ss1")), 6)[0]).toBe("fc1.s1");
  expect(ns.statements.size).toBe(0);
});

Deno.test("StatementNamespace replaces COPY FROM STDIN with an error statement", () => {
  const ns = new StatementNamespace("fc1.");
  const q = ns.rewrite(Q, queryMessage("COPY receipts (username) FROM stdin WITH (FORMAT csv)"));
  expect(readCString(q, 5)[0]).toContain("RAISE EXCEPTION");
  const p = ns.rewrite(P, parseMessage("c", "copy t from STDIN"));
  expect(readCString(p, 5)[0]).toBe("fc1.c");
  expect(readCString(p, 11)[0]).toContain("feature_not_supported");
  const fine = queryMessage("copy t to stdout");
  expect(ns.rewrite(Q, fine)).toBe(fine);
});
