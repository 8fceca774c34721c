import { expect } from "expect";
import { alignTable, fmtBytes, fmtCount, fmtMB, fmtMs, fmtRate } from "./table_format.ts";

Deno.test("formatting helpers", () => {
  expect(fmtCount(12)).toBe("12");
  expect(fmtCount(NaN)).toBe("—");
  expect(fmtMs(1.23456)).toBe("1.235");
  expect(fmtMs(23.456)).toBe("23.46");
  expect(fmtMs(234.56)).toBe("234.6");
  expect(fmtMs(2345.6)).toBe("2346");
  expect(fmtMs(undefined)).toBe("—");
  expect(fmtRate(1.234)).toBe("1.23");
  expect(fmtRate(12345.6)).toBe("12346");
  expect(fmtMB(0.01234)).toBe("0.0123");
  expect(fmtMB(Infinity)).toBe("—");
  expect(fmtBytes(512)).toBe("512 B");
  expect(fmtBytes(1536)).toBe("1.5 KiB");
  expect(fmtBytes(25769803776)).toBe("24.0 GiB");
  expect(fmtBytes(undefined)).toBe("—");
  expect(alignTable([["a", "1"], ["bbb", "22"]], "  ")).toBe("  a     1\n  bbb  22");
});
