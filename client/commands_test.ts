import { expect } from "expect";
import { FastChatError } from "@fastchat/lib/errors";
import { HELP_TEXT, parseCommand } from "./commands.ts";

/** Asserts that parsing `line` throws a `FastChatError` with `code` and returns it. */
function parseError(line: string, openPeer: string | null = null, code = "BAD_REQUEST") {
  let caught: unknown;
  try {
    parseCommand(line, openPeer);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(FastChatError);
  expect((caught as FastChatError).code).toBe(code);
  return caught as FastChatError;
}

Deno.test("parseCommand: /register and /login with and without a password", () => {
  expect(parseCommand("/register alice pw-1", null)).toEqual({
    cmd: "register",
    user: "alice",
    password: "pw-1",
  });
  expect(parseCommand("/register alice", null)).toEqual({
    cmd: "register",
    user: "alice",
    password: undefined,
  });
  expect(parseCommand("/login bob secret", null)).toEqual({
    cmd: "login",
    user: "bob",
    password: "secret",
  });
  const noPw = parseCommand("/login bob", null) as { cmd: string; password?: string };
  expect(noPw.cmd).toBe("login");
  expect(noPw.password).toBeUndefined();
  // Surrounding and repeated whitespace between arguments is ignored.
  expect(parseCommand("   /login   bob    secret  ", null)).toEqual({
    cmd: "login",
    user: "bob",
    password: "secret",
  });
});

Deno.test("parseCommand: /register and /login usage errors", () => {
  for (const name of ["register", "login"]) {
    expect(parseError(`/${name}`).message).toContain(`usage: /${name} <user> [password]`);
    expect(parseError(`/${name} a b c`).message).toContain(`usage: /${name}`);
  }
});

Deno.test("parseCommand: argument-less commands", () => {
  for (const name of ["logout", "whoami", "help", "quit", "close"] as const) {
    expect(parseCommand(`/${name}`, null)).toEqual({ cmd: name });
    expect(parseCommand(`/${name}`, "bob")).toEqual({ cmd: name });
    expect(parseError(`/${name} extra`).message).toBe(`usage: /${name}`);
  }
  expect(parseCommand("/exit", null)).toEqual({ cmd: "quit" });
});

Deno.test("parseCommand: command names are case-insensitive", () => {
  expect(parseCommand("/WHOAMI", null)).toEqual({ cmd: "whoami" });
  expect(parseCommand("/Msg bob Hi", null)).toEqual({ cmd: "msg", to: "bob", text: "Hi" });
});

Deno.test("parseCommand: /msg keeps the text's inner spaces", () => {
  expect(parseCommand("/msg bob hello there", null)).toEqual({
    cmd: "msg",
    to: "bob",
    text: "hello there",
  });
  expect(parseCommand("/msg bob   a  b   c", null)).toEqual({
    cmd: "msg",
    to: "bob",
    text: "a  b   c",
  });
  // Works with an open conversation too: the explicit recipient wins.
  expect(parseCommand("/msg carol hi", "bob")).toEqual({ cmd: "msg", to: "carol", text: "hi" });
  // A leading slash inside the text is just text.
  expect(parseCommand("/msg bob /not a command", null)).toEqual({
    cmd: "msg",
    to: "bob",
    text: "/not a command",
  });
});

Deno.test("parseCommand: /msg usage errors", () => {
  expect(parseError("/msg").message).toBe("usage: /msg <user> <text>");
  expect(parseError("/msg bob").message).toBe("usage: /msg <user> <text>");
  expect(parseError("/msg bob    ").message).toBe("usage: /msg <user> <text>");
});

Deno.test("parseCommand: /open and /verify", () => {
  expect(parseCommand("/open bob", null)).toEqual({ cmd: "open", user: "bob" });
  expect(parseCommand("/verify bob", null)).toEqual({ cmd: "verify", user: "bob" });
  expect(parseError("/open").message).toBe("usage: /open <user|#group>");
  expect(parseError("/open bob carol").message).toBe("usage: /open <user|#group>");
  expect(parseError("/verify").message).toBe("usage: /verify <user>");
  expect(parseError("/verify bob carol").message).toBe("usage: /verify <user>");
  expect(parseCommand("/trust bob", null)).toEqual({ cmd: "trust", user: "bob" });
  expect(parseError("/trust").message).toBe("usage: /trust <user>");
  expect(parseError("/trust bob carol").message).toBe("usage: /trust <user>");
});

Deno.test("parseCommand: /history with default and explicit n", () => {
  expect(parseCommand("/history bob", null)).toEqual({ cmd: "history", user: "bob", n: 20 });
  expect(parseCommand("/history bob 5", null)).toEqual({ cmd: "history", user: "bob", n: 5 });
  expect(parseCommand("/history bob 1", null)).toEqual({ cmd: "history", user: "bob", n: 1 });
  expect(parseCommand("/history bob 100000", null)).toEqual({
    cmd: "history",
    user: "bob",
    n: 100_000,
  });
});

Deno.test("parseCommand: /history validates n", () => {
  for (const n of ["0", "-1", "1.5", "abc", "100001", "NaN", "Infinity", "1e9"]) {
    const err = parseError(`/history bob ${n}`);
    expect(err.message).toContain("usage: /history <user> [n]");
  }
  expect(parseError("/history").message).toBe("usage: /history <user> [n]");
  expect(parseError("/history bob 5 6").message).toBe("usage: /history <user> [n]");
});

Deno.test("parseCommand: plain text goes to the open conversation", () => {
  expect(parseCommand("hello bob", "bob")).toEqual({ cmd: "msg", to: "bob", text: "hello bob" });
  // The line is sent as typed, spaces included.
  expect(parseCommand("  spaced   out  ", "bob")).toEqual({
    cmd: "msg",
    to: "bob",
    text: "  spaced   out  ",
  });
});

Deno.test("parseCommand: plain text without an open conversation is a BAD_REQUEST", () => {
  const err = parseError("hello there", null);
  expect(err.message).toContain("no open conversation");
  expect(err.message).toContain("/open <user>");
});

Deno.test("parseCommand: blank lines do nothing", () => {
  expect(parseCommand("", null)).toEqual({ cmd: "none" });
  expect(parseCommand("   \t ", null)).toEqual({ cmd: "none" });
  expect(parseCommand("", "bob")).toEqual({ cmd: "none" });
});

Deno.test("parseCommand: unknown command", () => {
  const err = parseError("/frobnicate now");
  expect(err.message).toBe("unknown command /frobnicate; try /help");
  expect(parseError("/frobnicate", "bob").message).toContain("unknown command /frobnicate");
});

Deno.test("HELP_TEXT lists every command", () => {
  for (
    const name of [
      "register",
      "login",
      "logout",
      "msg",
      "open",
      "close",
      "history",
      "verify",
      "trust",
      "whoami",
      "help",
      "quit",
    ]
  ) {
    expect(HELP_TEXT).toContain(`/${name}`);
  }
});

Deno.test("parseCommand: a bare slash and a non-decimal count are BAD_REQUEST", () => {
  parseError("/");
  parseError("/ hello");
  parseError("/history bob 0x10");
});

Deno.test("parseCommand: /group and /send", () => {
  expect(parseCommand("/group create team bob carol", null)).toEqual({
    cmd: "group",
    op: "create",
    group: "team",
    users: ["bob", "carol"],
  });
  expect(parseCommand("/group add #team dave", null)).toEqual({
    cmd: "group",
    op: "add",
    group: "team",
    user: "dave",
  });
  expect(parseCommand("/group leave team", null)).toEqual({
    cmd: "group",
    op: "leave",
    group: "team",
  });
  expect(parseCommand("/group list", null)).toEqual({ cmd: "group", op: "list" });
  expect(parseError("/group add team").message).toBe("usage: /group add <name> <user>");
  expect(parseError("/group explode team").message).toMatch(/^usage: \/group </);
  expect(parseCommand("/send #team /tmp/a b.png", null)).toEqual({
    cmd: "send",
    to: "#team",
    path: "/tmp/a b.png",
  });
  expect(parseError("/send bob").message).toBe("usage: /send <user|#group> <path>");
  expect(parseCommand("hello all", "#team")).toEqual({
    cmd: "msg",
    to: "#team",
    text: "hello all",
  });
});
