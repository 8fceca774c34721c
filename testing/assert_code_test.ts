import { expect } from "expect";
import { FastChatError } from "@fastchat/lib/errors";
import { assertCode, codeOf } from "./assert_code.ts";

const refuse = (): void => {
  throw new FastChatError("BAD_REQUEST", "refused");
};
const refuseLater = async (): Promise<never> => {
  await Promise.resolve();
  throw new FastChatError("TIMEOUT", "too late");
};

Deno.test("codeOf: the code of a sync throw, an async rejection or a rejected promise", async () => {
  expect(codeOf(refuse)).toBe("BAD_REQUEST");
  expect(codeOf(() => 42)).toBeUndefined();
  const later = codeOf(refuseLater);
  expect(later).toBeInstanceOf(Promise);
  expect(await later).toBe("TIMEOUT");
  expect(await codeOf(refuseLater())).toBe("TIMEOUT");
  expect(await codeOf(Promise.resolve(1))).toBeUndefined();
  expect(await codeOf(() => Promise.resolve(1))).toBeUndefined();
});

Deno.test("codeOf: anything but a FastChatError fails, with it as the cause", async () => {
  const boom = new TypeError("boom");
  let caught: unknown;
  try {
    codeOf(() => {
      throw boom;
    });
  } catch (e) {
    caught = e;
  }
  expect(String(caught)).toContain("expected a FastChatError, got TypeError: boom");
  expect((caught as Error).cause).toBe(boom);
  await expect(codeOf(Promise.reject(boom))).rejects.toThrow("got TypeError: boom");
});

Deno.test("assertCode passes on the expected code and returns the error", async () => {
  expect(assertCode(refuse, "BAD_REQUEST").message).toBe("refused");
  expect((await assertCode(refuseLater, "TIMEOUT")).message).toBe("too late");
  expect((await assertCode(refuseLater(), "TIMEOUT")).code).toBe("TIMEOUT");
});

Deno.test("assertCode fails when the code differs, nothing is thrown, or the error is untyped", async () => {
  expect(() => assertCode(refuse, "TIMEOUT")).toThrow(
    "expected FastChatError TIMEOUT, got BAD_REQUEST: refused",
  );
  expect(() => assertCode(() => 1, "BAD_REQUEST")).toThrow(
    "expected FastChatError BAD_REQUEST, but nothing was thrown",
  );
  expect(() =>
    assertCode(() => {
      throw new Error("plain");
    }, "BAD_REQUEST")
  ).toThrow("expected a FastChatError, got Error: plain");
  await expect(assertCode(refuseLater, "BAD_REQUEST")).rejects.toThrow(
    "expected FastChatError BAD_REQUEST, got TIMEOUT",
  );
  await expect(assertCode(Promise.resolve(), "TIMEOUT")).rejects.toThrow("nothing was thrown");
});
