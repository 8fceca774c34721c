import { expect } from "expect";
import { HistoryBrowser, LineHistory } from "./line_history.ts";

function lines(history: LineHistory): string[] {
  return Array.from({ length: history.length }, (_, i) => history.at(i)!);
}

Deno.test("LineHistory skips empty lines and repeats of the newest line", () => {
  const history = new LineHistory();
  for (const line of ["one", "two", "two", "", "one", " "]) history.add(line);
  expect(lines(history)).toEqual(["one", "two", "one", " "]);
  expect(history.at(-1)).toBe(undefined);
  expect(history.at(4)).toBe(undefined);
});

Deno.test("LineHistory drops the oldest line beyond its size", () => {
  const history = new LineHistory(3);
  for (const line of ["a", "b", "c", "d", "e"]) history.add(line);
  expect(lines(history)).toEqual(["c", "d", "e"]);

  const none = new LineHistory(0);
  none.add("a");
  expect(none.length).toBe(0);
  expect(new LineHistory().length).toBe(0);
});

Deno.test("HistoryBrowser walks back and forth and keeps the draft", () => {
  const history = new LineHistory();
  history.add("one");
  history.add("two");
  const browser = history.browse();
  expect(browser.move(+1, "dr")).toBe(null); // nothing after the draft
  expect(browser.move(-1, "dr")).toBe("two");
  expect(browser.move(-1, "two")).toBe("one");
  expect(browser.move(-1, "one")).toBe(null); // stops at the oldest
  expect(browser.move(+1, "one edited")).toBe("two"); // edits of recalled lines are not kept
  expect(browser.move(+1, "two")).toBe("dr");
  expect(browser.move(-1, "dr2")).toBe("two");
  expect(browser.move(+1, "two")).toBe("dr2"); // the draft is saved each time it is left
  expect(lines(history)).toEqual(["one", "two"]);
});

Deno.test("HistoryBrowser on an empty history never moves", () => {
  const browser = new HistoryBrowser(new LineHistory());
  expect(browser.move(-1, "x")).toBe(null);
  expect(browser.move(+1, "x")).toBe(null);
});

Deno.test("each browse starts at the draft position", () => {
  const history = new LineHistory();
  history.add("a");
  const first = history.browse();
  expect(first.move(-1, "")).toBe("a");
  history.add("b");
  expect(history.browse().move(-1, "")).toBe("b");
});
