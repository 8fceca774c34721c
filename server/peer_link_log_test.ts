import { expect } from "expect";
import { formatLogLine } from "@fastchat/lib/log_format";
import { missingPeerLinks, peerLinkState } from "./peer_link_log.ts";

const ev = (event: string, peer: string) =>
  JSON.stringify({ time: "t", level: "info", event, peer });

Deno.test("peerLinkState: the last up/down event for that peer wins", () => {
  const log = [
    "FastChat server srv-1 listening on 127.0.0.1:1",
    ev("peer_link_up", "srv-2"),
    ev("peer_link_up", "srv-22"),
    ev("peer_link_down", "srv-2"),
    "not json peer_link_up srv-3",
    ev("peer_link_up", "srv-3"),
  ];
  expect(peerLinkState(log, "srv-2")).toBe("down");
  expect(peerLinkState(log, "srv-22")).toBe("up");
  expect(peerLinkState(log, "srv-3")).toBe("up");
  expect(peerLinkState(log, "srv-4")).toBeUndefined();
  expect(peerLinkState([...log, ev("peer_link_up", "srv-2")], "srv-2")).toBe("up");
});

Deno.test("missingPeerLinks: every ordered pair must be up in the dialler's log", () => {
  const a = { id: "a", stderr: [ev("peer_link_up", "b"), ev("peer_link_up", "c")] };
  const b = { id: "b", stderr: [ev("peer_link_up", "a")] };
  const c = { id: "c", stderr: [ev("peer_link_up", "a"), ev("peer_link_down", "b")] };
  expect(missingPeerLinks([a, b, c])).toEqual(["b->c", "c->b"]);
  expect(missingPeerLinks([a, b])).toEqual([]);
  expect(missingPeerLinks([])).toEqual([]);
});

Deno.test("peerLinkState reads text log lines too (deno task start on a terminal)", () => {
  const text = (event: string, peer: string) =>
    formatLogLine("text", { level: "info", component: "server", event, peer });
  const log = [text("peer_link_up", "srv-2"), text("peer_link_up", "srv-3")];
  expect(peerLinkState(log, "srv-2")).toBe("up");
  expect(peerLinkState([...log, text("peer_link_down", "srv-2")], "srv-2")).toBe("down");
  expect(missingPeerLinks([{ id: "srv-1", stderr: log }, { id: "srv-2", stderr: [] }]))
    .toEqual(["srv-2->srv-1"]);
});
