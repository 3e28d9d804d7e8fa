import { appendFile, readFile, rm } from "node:fs/promises";
import { readProcessStartTime, waitForPidGone } from "./processes";

/**
 * A file listing the processes a run started (`<pid> <start time>` per line). When the run dies
 * without stopping them (SIGKILL, OOM), the next run ends exactly those: PID plus start time
 * identifies a process even after its PID has been reused.
 */
export async function recordChild(registryFile: string, pid: number): Promise<void> {
  const started = await readProcessStartTime(pid);
  if (started !== undefined) {
    await appendFile(registryFile, `${pid} ${started}\n`);
  }
}

/** SIGKILLs every recorded process that is still the same process, then empties the file. Returns their PIDs. */
export async function killRecordedChildren(registryFile: string): Promise<number[]> {
  const text = await readFile(registryFile, "utf8").catch(() => "");
  const killed: number[] = [];
  for (const line of text.split("\n")) {
    const [pidText, started] = line.split(" ");
    const pid = Number(pidText);
    if (Number.isInteger(pid) && pid > 0 && started && (await readProcessStartTime(pid)) === started) {
      try {
        process.kill(pid, "SIGKILL");
        killed.push(pid);
      } catch {
        // Gone in the meantime.
      }
      await waitForPidGone(pid, 5_000);
    }
  }
  await rm(registryFile, { force: true });
  return killed;
}
