import { readdirSync } from "node:fs";
import { setPriority } from "node:os";

/**
 * Lowers the scheduling priority of every thread of this process to `nice` (Linux keeps one
 * per thread; threads and processes started later inherit it, the kernel tools included).
 * The executor's work is a backlog that may wait a moment; the gateway's answers to people
 * may not: on a busy lab host, reads beside a 300-node burst answered in about a fifth of the
 * median time at nice 10 (the executor README's measurements), and the burst was built no later.
 */
export function lowerPriority(nice: number): void {
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      setPriority(Number(tid), nice);
    } catch (error) {
      // A thread that ended since the listing (ESRCH); anything else (refused) is not ignored.
      const info = (error as { info?: { code?: string } }).info;
      if (info?.code !== "ESRCH") {
        throw error;
      }
    }
  }
}
