import { describe, expect, it } from "vitest";
import { untilDatabaseAvailable } from "./until-available";

const refused = Object.assign(new Error("connect ECONNREFUSED"), {
  code: "ECONNREFUSED",
  syscall: "connect",
});

describe("untilDatabaseAvailable", () => {
  it("retries while Postgres is unreachable, with growing waits, and returns the step's value", async () => {
    const waits: number[] = [];
    let calls = 0;
    const value = await untilDatabaseAvailable(
      async () => {
        calls++;
        if (calls < 4) {
          throw new Error("Failed query", { cause: refused });
        }
        return "done";
      },
      { initialDelayMs: 1, maxDelayMs: 4, onRetry: (_error, delayMs) => waits.push(delayMs) },
    );
    expect(value).toBe("done");
    expect(waits).toEqual([1, 2, 4]);
  });

  it("throws any other error at once", async () => {
    let calls = 0;
    const broken = untilDatabaseAvailable(async () => {
      calls++;
      throw Object.assign(new Error("syntax error"), { code: "42601" });
    });
    await expect(broken).rejects.toThrow("syntax error");
    expect(calls).toBe(1);
  });

  it("gives up when its signal is aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      untilDatabaseAvailable(() => Promise.reject(refused), { signal: controller.signal }),
    ).rejects.toBe(refused);
  });
});
