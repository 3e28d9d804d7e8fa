import type { ChildProcess } from "node:child_process";
import { readFile, readlink } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

/** How a process ended. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** True when a process with this PID exists (zombies included). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM means it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The argv of a running process, or undefined when it is gone. */
export async function readProcessArgv(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, "utf8");
    return raw.split("\0").filter((part) => part.length > 0);
  } catch {
    return undefined;
  }
}

/** The working directory of a running process, or undefined when it is gone or unreadable. */
export async function readProcessCwd(pid: number): Promise<string | undefined> {
  try {
    return await readlink(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/**
 * Start time of a process in clock ticks since boot (field 22 of `/proc/<pid>/stat`), or
 * undefined when it is gone. With the PID it identifies a process even across PID reuse.
 */
export async function readProcessStartTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses; the fields after it do not.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/**
 * True while a process exists and has not exited. Unlike {@link isProcessAlive}, a zombie counts
 * as gone: an orphan that was killed stays a zombie until init gets round to reaping it.
 */
export async function isProcessRunning(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/**
 * Waits until a process that is not our child has exited (zombies count as exited), polling.
 * Returns false on timeout. (Our own children are awaited through their exit event instead.)
 */
export async function waitForPidGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await isProcessRunning(pid)) {
    if (Date.now() > deadline) {
      return false;
    }
    await sleep(50);
  }
  return true;
}

/** Resolves when the child has exited (immediately if it already has). */
export function waitForChildExit(child: ChildProcess): Promise<ExitStatus> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}

/**
 * Stops a child we started: sends `signal` to its PID, waits up to `timeoutMs`, then SIGKILL.
 */
export async function terminateChild(
  child: ChildProcess,
  options: { signal?: NodeJS.Signals; timeoutMs?: number } = {},
): Promise<ExitStatus> {
  const exited = waitForChildExit(child);
  if (child.exitCode !== null || child.signalCode !== null) {
    return exited;
  }
  child.kill(options.signal ?? "SIGTERM");
  const cancel = new AbortController();
  const timeout = sleep(options.timeoutMs ?? 10_000, undefined, { signal: cancel.signal }).catch(
    () => undefined,
  );
  const status = await Promise.race([exited, timeout]);
  cancel.abort();
  if (status !== undefined) {
    return status;
  }
  child.kill("SIGKILL");
  return exited;
}
