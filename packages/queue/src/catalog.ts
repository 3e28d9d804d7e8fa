import { z } from "zod";

/**
 * What every job carries: ids only. The executor loads the desired state from Postgres,
 * so a lost or replayed job loses or duplicates nothing.
 */
export const EntityJob = z
  .object({
    operationId: z.string().regex(/^op_[a-z2-7]{16}$/),
    hostId: z.string().regex(/^hst_[a-z2-7]{16}$/),
    targetId: z.string().min(1),
  })
  .strict();
export type EntityJob = z.infer<typeof EntityJob>;

interface JobSpec {
  payload: typeof EntityJob;
  /** Tries before the operation is marked failed. */
  attempts: number;
  /** First retry delay; doubles each attempt. */
  backoffMs: number;
}

const converge: JobSpec = { payload: EntityJob, attempts: 5, backoffMs: 500 };

/** Every job Labnet runs, by name. The only place job names exist. */
export const JOBS = {
  /** Build or repair a network's kernel side on its host. */
  "network.ensure": converge,
  /** Remove a network's kernel side, then its records. */
  "network.remove": converge,
  /** Build or repair a node's sandbox and endpoints. */
  "node.ensure": converge,
  /** Remove a node's sandbox, then its records. */
  "node.remove": converge,
} as const satisfies Record<string, JobSpec>;

export type JobName = keyof typeof JOBS;
export const JOB_NAMES = Object.keys(JOBS) as JobName[];

export function isJobName(value: string): value is JobName {
  return Object.hasOwn(JOBS, value);
}

/** One BullMQ queue per lab host. No `:` (BullMQ uses it as its key separator). */
export function hostQueueName(hostId: string): string {
  return `labnet-host-${hostId}`;
}
