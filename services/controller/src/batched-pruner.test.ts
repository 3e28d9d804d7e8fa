import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "@labnet/log";
import { describe, expect, it } from "vitest";
import { PRUNE_BATCH, startBatchedPruner } from "./batched-pruner";

/** A real logger whose JSON lines are kept. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { lines, log: createLogger("test", { level: "info", destination }) };
}

describe("startBatchedPruner", () => {
  it("deletes batch after batch until one is short, one round at a time, and logs the total", async () => {
    const { lines, log } = capturedLogger();
    const due = [PRUNE_BATCH, PRUNE_BATCH, 3];
    let calls = 0;
    let concurrent = 0;
    let mostConcurrent = 0;
    const pruner = startBatchedPruner({
      what: "things",
      log,
      intervalMs: 5,
      pruneBatch: async (batch) => {
        expect(batch).toBe(PRUNE_BATCH);
        calls++;
        concurrent++;
        mostConcurrent = Math.max(mostConcurrent, concurrent);
        await sleep(20);
        concurrent--;
        return due.shift() ?? 0;
      },
    });
    await sleep(150);
    await pruner.stop();
    expect(mostConcurrent).toBe(1);
    expect(calls).toBeGreaterThan(3);
    expect(lines.filter((l) => l.message === "things pruned").map((l) => l.rows)).toEqual([
      2 * PRUNE_BATCH + 3,
    ]);
  });

  it("logs a failed round and tries again on the next", async () => {
    const { lines, log } = capturedLogger();
    let calls = 0;
    const pruner = startBatchedPruner({
      what: "things",
      log,
      intervalMs: 5,
      pruneBatch: async () => {
        calls++;
        if (calls === 1) {
          throw new Error("database away");
        }
        return 1;
      },
    });
    await sleep(60);
    await pruner.stop();
    expect(lines.find((l) => l.message === "things pruning failed")?.error).toContain("database away");
    expect(lines.some((l) => l.message === "things pruned")).toBe(true);
  });
});
