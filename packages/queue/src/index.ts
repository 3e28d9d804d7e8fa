export {
  convergeDedupId,
  HostJob,
  hostQueueName,
  InspectJob,
  inspectJobId,
  isJobName,
  JOB_NAMES,
  JOBS,
  type JobName,
  type JobPayload,
  probeJobId,
} from "./catalog";
export { type ExecRequest, HostExecutor } from "./exec";
export {
  checkExecArgv,
  describeExecRefusal,
  EXEC_PROGRAMS,
  type ExecPlace,
  type ExecProgram,
  type ExecRefusal,
  execSpawnArgv,
  isAllowedExecArgv,
  MAX_EXEC_ARG_LENGTH,
  MAX_EXEC_ARGS,
} from "./exec-argv";
export {
  DEFAULT_EXEC_TIMEOUT_MS,
  type ExecChunk,
  ExecJob,
  ExecResult,
  ExecTarget,
  execChannel,
  execJobId,
  execPlaceOf,
  MAX_EXEC_OUTPUT_BYTES,
  MAX_EXEC_TIMEOUT_MS,
  MIN_EXEC_TIMEOUT_MS,
} from "./exec-job";
export { HostRequestError, type HostRequestFailure, HostRequests } from "./host-request";
export { HostInspectError, HostInspector, type InspectFailure, type InspectTarget } from "./inspect";
export { executorMetricsKey } from "./metrics-snapshot";
export {
  isIpv4Address,
  isProbeTarget,
  MAX_PROBE_TIMEOUT_MS,
  MAX_PROBES_PER_JOB,
  MIN_PROBE_TIMEOUT_MS,
  Probe,
  ProbeJob,
  ProbeOrigin,
  ProbeResult,
} from "./probe";
export { HostProbeError, HostProber, type ProbeFailure, type ProbeHost } from "./prober";
export { HostQueues } from "./producer";
export { createRedisConnection, redisOptions } from "./redis";
