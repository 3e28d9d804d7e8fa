/**
 * The run's directory (`/tmp/<host netns>`: Postgres, Redis, logs, the list of processes it
 * started) and its cleanup, shared by the run itself, its reaper (when the run is killed) and
 * the next run's sweep of runs that died. Used by every bench that starts a Labnet stack
 * (`stack.ts`): the provision and labs benches.
 */
import { chmod, mkdir, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { deleteNetns, killRecordedChildren, stopStalePostgres, stopStaleRedis } from "@labnet/devstack";
import { createExecRunner, sweepStaleUsernsPins } from "../../src/kernel";
import { listNetns } from "../harness";

/** Where `ip netns exec` reads a sandbox's resolver files; the executor writes them there. */
const ETC_NETNS_DIR = "/etc/netns";
const RUN_DIR_PARENT = "/tmp";
/**
 * Host namespaces (and run directories `/tmp/<name>`) of the benches that start a Labnet stack:
 * `lbench<pid in base 36>-provision`, `lbench<pid>-labs`.
 */
export const STACK_RUN = /^lbench([0-9a-z]+)-(?:provision|labs)$/;

export interface RunPaths {
  dir: string;
  /** `<pid> <start time>` of the gateway and executor (devstack's child registry). */
  registry: string;
  logs: string;
  pg: string;
  redis: string;
}

/** The paths of the run whose host namespace is `hostNetns`. */
export function runPaths(hostNetns: string): RunPaths {
  const dir = path.join(RUN_DIR_PARENT, hostNetns);
  return {
    dir,
    registry: path.join(dir, "children"),
    logs: path.join(dir, "logs"),
    pg: path.join(dir, "pg"),
    redis: path.join(dir, "redis"),
  };
}

/** Creates the run directory, searchable by the `postgres` account (mkdtemp's 0700 is not). */
export async function makeRunDir(paths: RunPaths): Promise<void> {
  await rm(paths.dir, { recursive: true, force: true });
  await mkdir(paths.logs, { recursive: true });
  await chmod(paths.dir, 0o755);
}

export interface CleanUpOptions {
  /** Keep `<run dir>/logs`. */
  keepLogs: boolean;
  /**
   * Delete the namespaces `<host netns>-…`. Not from the reaper: the bench harness deletes them
   * once the run has exited, and two deleters would race.
   */
  namespaces: boolean;
}

/**
 * Ends what the run started and removes what it left: the recorded processes (PID and start
 * time, so a reused PID is never hit), its Redis and Postgres (found by their pid files in the
 * run directory), the namespaces (if asked), the pins of its machines' user namespaces whose
 * namespace is gone (the executor releases them when it removes a machine, not when it is
 * killed) and resolver files with the run's prefix, and the directory (the logs stay when
 * `keepLogs`).
 */
export async function cleanUpRun(hostNetns: string, options: CleanUpOptions): Promise<void> {
  const paths = runPaths(hostNetns);
  await killRecordedChildren(paths.registry);
  await stopStaleRedis(paths.redis);
  await stopStalePostgres(paths.pg);
  if (options.namespaces) {
    for (const name of await listNetns(`${hostNetns}-`)) {
      await deleteNetns(name);
    }
  }
  await sweepStaleUsernsPins(createExecRunner(), `${hostNetns}-`);
  for (const entry of await readdir(ETC_NETNS_DIR).catch(() => [] as string[])) {
    if (entry.startsWith(`${hostNetns}-`) || entry.startsWith(`.${hostNetns}-`)) {
      await rm(path.join(ETC_NETNS_DIR, entry), { recursive: true, force: true });
    }
  }
  if (options.keepLogs) {
    await rename(path.join(paths.pg, "postgres.log"), path.join(paths.logs, "postgres.log")).catch(() => {});
    await rm(paths.pg, { recursive: true, force: true });
    await rm(paths.redis, { recursive: true, force: true });
  } else {
    await rm(paths.dir, { recursive: true, force: true });
  }
}

/** Cleans up after stack runs (provision, labs) whose process (the PID in the name) is gone. */
export async function sweepStaleRuns(ownHostNetns: string): Promise<string[]> {
  const swept: string[] = [];
  for (const entry of await readdir(RUN_DIR_PARENT)) {
    const match = STACK_RUN.exec(entry);
    if (match?.[1] === undefined || entry === ownHostNetns || isAlive(Number.parseInt(match[1], 36))) {
      continue;
    }
    await cleanUpRun(entry, { keepLogs: false, namespaces: true });
    swept.push(entry);
  }
  return swept;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
