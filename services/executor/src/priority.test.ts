import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const PRIORITY = fileURLToPath(new URL("./priority.ts", import.meta.url));

/** In a process of its own (the test's must keep its priority): every thread's nice, then a child's. */
const SCRIPT = `
import { readdirSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
const { lowerPriority } = await import(process.env.PRIORITY);
const niceOf = (stat) => Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
lowerPriority(7);
const threads = readdirSync("/proc/self/task").map((tid) => niceOf(readFileSync("/proc/self/task/" + tid + "/stat", "utf8")));
const child = niceOf(execFileSync("cat", ["/proc/self/stat"], { encoding: "utf8" }));
console.log(JSON.stringify({ threads, child }));
`;

describe("lowerPriority", () => {
  it("lowers every thread of the process, and what it starts later inherits it", () => {
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", SCRIPT], {
      encoding: "utf8",
      env: { ...process.env, PRIORITY },
    });
    const { threads, child } = JSON.parse(out) as { threads: number[]; child: number };
    // Node runs several threads (V8's workers, libuv's) from its start.
    expect(threads.length).toBeGreaterThan(1);
    expect(new Set(threads)).toEqual(new Set([7]));
    expect(child).toBe(7);
  });
});
