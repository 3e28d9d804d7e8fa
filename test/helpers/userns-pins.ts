import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { runCommand } from "@labnet/devstack";

/** Where executors pin machines' user namespaces (services/executor/src/kernel/userns.ts). */
export const USERNS_PIN_DIR = "/run/labnet/userns";

/**
 * Unmounts and removes the user-namespace pins of a run's machines (`<prefix>...`), which
 * outlive their namespaces when the executor that made them is gone. Only names with the
 * prefix are touched.
 */
export async function removeUsernsPins(prefix: string): Promise<string[]> {
  if (prefix.length < 2) {
    throw new Error(`refusing to remove user namespace pins by the prefix ${JSON.stringify(prefix)}`);
  }
  const removed: string[] = [];
  for (const entry of await readdir(USERNS_PIN_DIR).catch(() => [] as string[])) {
    if (entry.startsWith(prefix)) {
      const pin = path.join(USERNS_PIN_DIR, entry);
      await runCommand(["umount", pin]);
      await rm(pin, { force: true });
      removed.push(entry);
    }
  }
  return removed;
}
