import { expect } from "expect";
import { EV_ACKED, EV_DELIVERED, EV_ERROR, EV_RECEIVED, EV_SENT } from "./client_log.ts";
import { FileAccumulator } from "./file_analysis.ts";

const MB = 1_000_000;

Deno.test("FileAccumulator: time to complete, MB/s per file and over the run", () => {
  const acc = new FileAccumulator();
  acc.sink(1, "f2", EV_RECEIVED, 3000, 4 * MB, "bob", "file"); // read before its sender's log
  acc.sink(0, "f1", EV_SENT, 1000, 4 * MB, "bob", "file");
  acc.sink(0, "f1", EV_ACKED, 1800, 4 * MB, "bob", "file");
  acc.sink(0, "f1", EV_DELIVERED, 2100, 4 * MB, "bob", "file");
  acc.sink(1, "f1", EV_RECEIVED, 2000, 4 * MB, "alice", "file");
  acc.sink(1, "f2", EV_SENT, 1000, 4 * MB, "alice", "file");
  acc.sink(0, "f3", EV_SENT, 1500, 4 * MB, "bob", "file");
  acc.sink(1, "f3", EV_ERROR, 2500, 0, "alice", "FILE_MISMATCH");
  const rss = { fileBytes: 4 * MB, rssKbBefore: { "srv-1": 100 }, rssKbPeak: { "srv-1": 150 } };
  const s = acc.finish(rss);
  expect(s).toMatchObject({
    files: 3,
    completed: 2,
    failed: 1,
    bytesReceived: 8 * MB,
    windowMs: 2000,
    mbPerSec: 4,
    rssKbPeak: { "srv-1": 150 },
    rssKbBefore: { "srv-1": 100 },
  });
  expect(s.completeMs).toMatchObject({ count: 2, min: 1000, max: 2000 });
  expect(s.fileMbPerSec).toMatchObject({ min: 2, max: 4 });
});

Deno.test("FileAccumulator: nothing received, nothing measured", () => {
  const acc = new FileAccumulator();
  acc.sink(0, "f1", EV_SENT, 1000, MB, "bob", "file");
  const s = acc.finish();
  expect(s).toMatchObject({ files: 1, completed: 0, bytesReceived: 0, rssKbPeak: {} });
  expect(s.mbPerSec).toBeNaN();
  expect(s.completeMs.max).toBeNaN();
});
