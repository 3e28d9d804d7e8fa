import path from "node:path";
import { netnsPath, REPO_ROOT } from "@labnet/devstack";
import { inject } from "vitest";
import { startTestProcess, type TestProcess } from "./processes";

/** The executor entrypoint, run with `node --import tsx`. */
export const EXECUTOR_MAIN = path.join(REPO_ROOT, "services", "executor", "src", "main.ts");

export interface StartExecutorOptions {
  /** The sim host's namespace: the executor manages the namespace it runs in. */
  hostNetns: string;
  /**
   * Overrides on top of the defaults: DATABASE_URL, REDIS_URL (the run's, unix sockets),
   * LABNET_HOST_NAME = hostNetns, LABNET_NETNS_PREFIX = `<hostNetns>-` (so its sandboxes carry
   * the run prefix and are swept), LABNET_DATA_DIR = `<runDir>/<hostNetns>`.
   */
  env?: Record<string, string>;
  /** Log name (default `executor-<hostNetns>`). */
  name?: string;
}

/**
 * Starts an executor inside a sim host: `nsenter --net=/run/netns/<host> -- node --import tsx
 * services/executor/src/main.ts` (not `ip netns exec`, whose private mount namespace would hide
 * the sandbox namespaces it creates). nsenter execs node, so the PID is the executor's own.
 * Tracked like every test process: stopped after the file, killed by PID if all else fails.
 */
export function startExecutor(options: StartExecutorOptions): TestProcess {
  const runDir = inject("runDir");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: inject("databaseUrl"),
    REDIS_URL: inject("redisUrl"),
    LABNET_HOST_NAME: options.hostNetns,
    LABNET_NETNS_PREFIX: `${options.hostNetns}-`,
    LABNET_DATA_DIR: path.join(runDir, options.hostNetns),
    // The suite keeps both cores busy with test workers at nice 0 (each file's gateway runs in
    // one): a niced executor would wait behind tests it does not compete with on a lab host.
    LABNET_EXECUTOR_NICE: "0",
    ...options.env,
  };
  const argv = [
    "nsenter",
    `--net=${netnsPath(options.hostNetns)}`,
    "--",
    process.execPath,
    "--import",
    "tsx",
    EXECUTOR_MAIN,
  ];
  return startTestProcess(options.name ?? `executor-${options.hostNetns}`, argv, { env, cwd: REPO_ROOT });
}
