import { existsSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import path from "node:path";

/** Where executors write each sandbox's resolv.conf and hosts (read by `ip netns exec`). */
export const ETC_NETNS_DIR = "/etc/netns";

/**
 * Removes `/etc/netns/<name>` (and an executor's temp files `.<name>...tmp`) for every name
 * starting with `prefix`: the resolver files of a run's sandboxes, which outlive their
 * namespaces when the executor that wrote them is gone. Only names with the prefix are touched.
 */
export async function removeEtcNetns(prefix: string): Promise<string[]> {
  if (prefix.length < 2) {
    throw new Error(`refusing to remove /etc/netns entries by the prefix ${JSON.stringify(prefix)}`);
  }
  const entries = await readdir(ETC_NETNS_DIR).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const entry of entries) {
    if (entry.startsWith(prefix) || entry.startsWith(`.${prefix}`)) {
      await rm(path.join(ETC_NETNS_DIR, entry), { recursive: true, force: true });
      removed.push(entry);
    }
  }
  return removed;
}

/** `<runPrefix><host>-<16 id chars>`: a sandbox of a test run (see runPrefixFor in setup/run.ts). */
const RUN_SANDBOX = /^lt([0-9a-z]{5})[a-zA-Z0-9_.-]*-[a-z2-7]{16}$/;

/**
 * Removes resolver files of sandboxes of test runs that are over: entries named like a run's
 * sandbox whose namespace is gone and whose vitest (the PID in the prefix) is not running.
 * Catches what a run could not clean up (killed, or older code without the cleanup).
 */
export async function sweepStaleEtcNetns(isLiveRun: (pid: number) => Promise<boolean>): Promise<string[]> {
  const entries = await readdir(ETC_NETNS_DIR).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const entry of entries) {
    const match = RUN_SANDBOX.exec(entry);
    if (!match?.[1] || existsSync(path.join("/run/netns", entry))) {
      continue;
    }
    if (await isLiveRun(Number.parseInt(match[1], 36))) {
      continue;
    }
    await rm(path.join(ETC_NETNS_DIR, entry), { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
}
