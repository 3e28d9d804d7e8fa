export {
  convergeDedupId,
  HostJob,
  hostQueueName,
  inspectJobId,
  isJobName,
  JOB_NAMES,
  JOBS,
  type JobName,
  type JobPayload,
  probeJobId,
} from "./catalog";
export { HostRequestError, type HostRequestFailure, HostRequests } from "./host-request";
export { HostInspectError, HostInspector, type InspectFailure, type InspectTarget } from "./inspect";
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
