export { convergeDedupId, HostJob, hostQueueName, isJobName, JOB_NAMES, JOBS, type JobName } from "./catalog";
export { HostQueues } from "./producer";
export { createRedisConnection, redisOptions } from "./redis";
