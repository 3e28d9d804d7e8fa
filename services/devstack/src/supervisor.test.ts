import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ExitStatus } from "./processes";
import { restartDelayMs, Supervisor } from "./supervisor";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let supervisor: Supervisor | undefined;
let dir: string | undefined;

afterEach(async () => {
  await supervisor?.stopAll(2_000);
  if (dir) {
    await rm(dir, { recursive: true, force: true });
  }
});

describe("restartDelayMs", () => {
  it.each([
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [5, 16_000],
    [6, 30_000],
    [50, 30_000],
  ])("waits before restart %i: %i ms", (failures, want) => {
    expect(restartDelayMs(failures)).toBe(want);
  });
});

describe("Supervisor", () => {
  it("restarts a child that crashes, with growing delays, until it stays up", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "supervisor-"));
    const starts = path.join(dir, "starts");
    // Crashes on its first two starts, then runs until stopped.
    const script = `const fs=require("fs");fs.appendFileSync(${JSON.stringify(starts)},"x");if(fs.readFileSync(${JSON.stringify(starts)},"utf8").length<3)process.exit(7);setInterval(()=>{},1000);`;
    const restarts: { status: ExitStatus; delayMs: number; failures: number }[] = [];
    const unexpected: string[] = [];
    const pids: number[] = [];
    supervisor = new Supervisor({
      onUnexpectedExit: (name) => unexpected.push(name),
      onRestart: (_name, status, delayMs, failures) => restarts.push({ status, delayMs, failures }),
      onStart: (_name, pid) => pids.push(pid),
      write: () => {},
    });
    const child = supervisor.start("crashy", [process.execPath, "-e", script], {
      env: process.env,
      cwd: dir,
      restart: { delayMs: (n) => 50 * n },
    });
    const deadline = Date.now() + 10_000;
    while ((await readFile(starts, "utf8").catch(() => "")).length < 3 && Date.now() < deadline) {
      await sleep(20);
    }
    await sleep(200);
    expect(restarts).toEqual([
      { status: { code: 7, signal: null }, delayMs: 50, failures: 1 },
      { status: { code: 7, signal: null }, delayMs: 100, failures: 2 },
    ]);
    expect(unexpected).toEqual([]);
    expect(new Set(pids).size).toBe(3);
    expect(child.pid).toBe(pids[2]);
    await supervisor.stopAll(2_000);
    expect((await child.exited).signal).toBe("SIGTERM");
  });

  it("reports a child without a restart policy that exits on its own", async () => {
    const unexpected: [string, ExitStatus][] = [];
    supervisor = new Supervisor({
      onUnexpectedExit: (name, status) => unexpected.push([name, status]),
      write: () => {},
    });
    const child = supervisor.start("once", [process.execPath, "-e", "process.exit(3)"], {
      env: process.env,
      cwd: tmpdir(),
    });
    expect(await child.exited).toEqual({ code: 3, signal: null });
    expect(unexpected).toEqual([["once", { code: 3, signal: null }]]);
  });

  it("does not restart what it stops, nor a child whose restart is pending", async () => {
    const restarts: string[] = [];
    supervisor = new Supervisor({
      onUnexpectedExit: () => {},
      onRestart: (name) => restarts.push(name),
      write: () => {},
    });
    const crashing = supervisor.start("crashing", [process.execPath, "-e", "process.exit(1)"], {
      env: process.env,
      cwd: tmpdir(),
      restart: { delayMs: () => 60_000 },
    });
    const steady = supervisor.start("steady", [process.execPath, "-e", "setInterval(()=>{},1000)"], {
      env: process.env,
      cwd: tmpdir(),
      restart: {},
    });
    while (restarts.length === 0) {
      await sleep(20);
    }
    await supervisor.stopAll(2_000);
    expect((await steady.exited).signal).toBe("SIGTERM");
    expect(await crashing.exited).toEqual({ code: 1, signal: null });
    expect(restarts).toEqual(["crashing"]);
  });
});
