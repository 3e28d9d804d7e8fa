import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import {
  deleteNetns,
  isProcessAlive,
  killRecordedChildren,
  listNetns,
  listNetnsPids,
  readProcessArgv,
  stopStalePostgres,
  stopStaleRedis,
  waitForNoNetns,
  waitForPidGone,
} from "@labnet/devstack";
import { removeEtcNetns, sweepStaleEtcNetns } from "../helpers/etc-netns";
import { removeUsernsPins } from "../helpers/userns-pins";

const RUN_DIR_PARENT = "/tmp";
const RUN_DIR = /^lt-(\d+)$/;
/** pid_max is at most 2^22 = 4194304 < 36^5, so five base36 digits always suffice. */
const PID_DIGITS = 5;

/**
 * The prefix of every namespace a test run makes: `lt` + the vitest PID in base36, fixed width,
 * so that one run's prefix is never a prefix of another's.
 */
export function runPrefixFor(pid: number): string {
  return `lt${pid.toString(36).padStart(PID_DIGITS, "0")}`;
}

/** `/tmp/lt-<pid>`: short, because unix socket paths must fit in ~107 bytes. */
export function runDirFor(pid: number): string {
  return path.join(RUN_DIR_PARENT, `lt-${pid}`);
}

/** The file listing the processes tests of a run started (see recordChild in @labnet/devstack). */
export function childRegistryOf(runDir: string): string {
  return path.join(runDir, "children");
}

/**
 * Removes every namespace starting with `prefix`, first killing the processes inside (only a
 * run's own tests enter its namespaces). @throws when some are still there after 10 s.
 */
export async function removeRunNamespaces(prefix: string): Promise<void> {
  for (const name of await listNetns(prefix)) {
    for (const pid of await listNetnsPids(name)) {
      if (pid !== process.pid) {
        process.kill(pid, "SIGKILL");
        await waitForPidGone(pid, 5_000);
      }
    }
    await deleteNetns(name);
  }
  // Resolver files executors wrote for the run's sandboxes (/etc/netns/<prefix>...), and the
  // pins of its machines' user namespaces.
  await removeEtcNetns(prefix);
  await removeUsernsPins(prefix);
  await waitForNoNetns(prefix, 10_000);
}

/** True when `pid` is a live vitest process (a reused PID is not). */
async function isLiveVitest(pid: number): Promise<boolean> {
  if (!isProcessAlive(pid)) {
    return false;
  }
  const argv = (await readProcessArgv(pid)) ?? [];
  return argv.some((arg) => arg.includes("vitest"));
}

/**
 * Cleans up after earlier runs that died (SIGKILL, OOM, power cut of a CI step): for each
 * `/tmp/lt-<pid>` whose vitest is gone, ends its recorded children and the processes in its
 * namespaces, deletes its namespaces (`runPrefixFor(pid)*`), stops its Postgres and Redis, and
 * removes the directory. A namespace is only swept together with its run directory, so names
 * that merely look alike (another tool's `lt...`) are never touched. Resolver files under
 * /etc/netns of dead runs' sandboxes whose namespace is gone go too. Returns the swept PIDs.
 */
export async function sweepStaleRuns(): Promise<number[]> {
  const swept: number[] = [];
  for (const entry of await readdir(RUN_DIR_PARENT)) {
    const match = RUN_DIR.exec(entry);
    if (!match) {
      continue;
    }
    const pid = Number(match[1]);
    // Our own PID's directory cannot be ours yet: the sweep runs before we create it.
    if (pid !== process.pid && (await isLiveVitest(pid))) {
      continue;
    }
    const dir = runDirFor(pid);
    await killRecordedChildren(childRegistryOf(dir));
    await removeRunNamespaces(runPrefixFor(pid));
    await stopStaleRedis(path.join(dir, "redis"));
    await stopStalePostgres(path.join(dir, "pg"));
    await rm(dir, { recursive: true, force: true });
    swept.push(pid);
  }
  await sweepStaleEtcNetns(async (pid) => pid === process.pid || (await isLiveVitest(pid)));
  return swept;
}
