export {
  convergeDedupId,
  HostJob,
  hostQueueName,
  inspectJobId,
  isJobName,
  JOB_NAMES,
  JOBS,
  type JobName,
} from "./catalog";
export { HostInspectError, HostInspector, type InspectFailure, type InspectTarget } from "./inspect";
export { HostQueues } from "./producer";
export { createRedisConnection, redisOptions } from "./redis";
