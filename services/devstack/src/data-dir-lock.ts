import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { isProcessAlive, readProcessArgv } from "./processes";

/**
 * Claims a data directory for this process (`<dir>/devstack.pid`), so two `npm start`s never
 * run servers on the same files, and a leftover server found there can only be an orphan of a
 * run that died. Returns the release function.
 * @throws when another live devstack holds the directory.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  const lockFile = path.join(dataDir, "devstack.pid");
  const holder = Number((await readFile(lockFile, "utf8").catch(() => "")).trim());
  if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isProcessAlive(holder)) {
    const argv = (await readProcessArgv(holder)) ?? [];
    if (argv.some((arg) => arg.includes("devstack"))) {
      throw new Error(`another Labnet devstack (PID ${holder}) is running on ${dataDir}; stop it first`);
    }
  }
  await writeFile(lockFile, `${process.pid}\n`);
  return async () => {
    const current = (await readFile(lockFile, "utf8").catch(() => "")).trim();
    if (current === String(process.pid)) {
      await rm(lockFile, { force: true });
    }
  };
}
