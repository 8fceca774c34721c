import { expect } from "expect";
import { formatBytes, transferBar } from "./transfer_bar.ts";

Deno.test("the bar fills in eighths and never overflows its width", () => {
  const bar = (done: number) =>
    transferBar({ name: "f", done, total: 800, elapsedMs: 1000, width: 10 }).slice(1, 11);
  expect(bar(0)).toBe(" ".repeat(10));
  expect(bar(40)).toBe("▌" + " ".repeat(9));
  expect(bar(400)).toBe("█████" + " ".repeat(5));
  expect(bar(800)).toBe("█".repeat(10));
  expect(bar(5000)).toBe("█".repeat(10));
});

Deno.test("the line states percent, amounts in one unit, rate and name", () => {
  const mib = 1024 * 1024;
  expect(transferBar({ name: "photo.png", done: 52 * mib, total: 100 * mib, elapsedMs: 2000 }))
    .toBe(`▕${"█".repeat(10)}▍${" ".repeat(9)}▏ 52%  52.0/100.0 MiB  26.0 MiB/s  photo.png`);
  expect(transferBar({ name: "e", done: 0, total: 0, elapsedMs: 0, width: 4 })).toBe(
    "▕████▏100%  0.0/0.0 B  …  e",
  );
});

Deno.test("formatBytes uses binary units", () => {
  expect(formatBytes(0)).toBe("0 B");
  expect(formatBytes(1023)).toBe("1023 B");
  expect(formatBytes(1536)).toBe("1.5 KiB");
  expect(formatBytes(100 * 1024 * 1024)).toBe("100.0 MiB");
});
