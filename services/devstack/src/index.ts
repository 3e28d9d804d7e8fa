// The harness and the benches run commands the way the stack does.
export { type CommandResult, type RunCommandOptions, runCommand, runCommandOrThrow } from "@labnet/process";
export { killRecordedChildren, recordChild } from "./child-registry";
export { ConfigError, type DevstackConfig, DevstackEnv, loadDevstackConfig } from "./config";
export { lockDataDir } from "./data-dir-lock";
export { migrateDatabase } from "./migrate-database";
export {
  addNetns,
  assertNetnsName,
  createUplinkedNetns,
  deleteNetns,
  ensureLabHostNetns,
  type LabHostNetns,
  listNetns,
  listNetnsPids,
  NETNS_DIR,
  netnsPath,
  type UplinkPlan,
  waitForNoNetns,
} from "./netns";
export { REPO_ROOT } from "./paths";
export {
  findPostgresBinDir,
  isReachableByPostgres,
  type PostgresServer,
  type StartPostgresOptions,
  startPostgres,
  stopStalePostgres,
} from "./postgres";
export {
  type ExitStatus,
  isProcessAlive,
  isProcessRunning,
  readProcessArgv,
  readProcessCwd,
  readProcessStartTime,
  terminateChild,
  waitForChildExit,
  waitForPidGone,
} from "./processes";
export { pingRedis, type RedisServer, type StartRedisOptions, startRedis, stopStaleRedis } from "./redis";
export { assertSocketPathFits } from "./socket-path";
export {
  type RestartPolicy,
  restartDelayMs,
  type SupervisedProcess,
  Supervisor,
  type SupervisorOptions,
} from "./supervisor";
export { ensureSystemUser, findSystemUser, type SystemUser } from "./system-user";
