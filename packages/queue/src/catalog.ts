import { isValidNetnsName } from "@labnet/netplan";
import { z } from "zod";
import { ExecJob } from "./exec-job";
import { ProbeJob } from "./probe";

/**
 * What a converge job carries: the host, nothing else. The job means "this host needs
 * converging"; the executor loads desired state and the open operations from Postgres in one
 * snapshot and settles every operation that snapshot covered, so a lost, replayed or
 * duplicated job loses or duplicates nothing.
 */
export const HostJob = z
  .object({
    hostId: z.string().regex(/^hst_[a-z2-7]{16}$/),
  })
  .strict();
export type HostJob = z.infer<typeof HostJob>;

/**
 * An inspection: a machine's kernel, or with `netns` the kernel of one of its nodes (a
 * sandbox under /run/netns on the machine's lab host), with the node's resolver files.
 */
export const InspectJob = HostJob.extend({
  netns: z
    .string()
    .refine((v) => isValidNetnsName(v) && /^[A-Za-z0-9]/.test(v), { message: "not a valid netns name" })
    .optional(),
}).strict();
export type InspectJob = z.infer<typeof InspectJob>;

interface JobSpec {
  payload: z.ZodType;
  /** Tries of the job itself (a converge that could not run at all: database away, ...). */
  attempts: number;
  /** First retry delay; doubles each attempt. */
  backoffMs: number;
}

/** Every job Labnet runs, by name. The only place job names exist. */
export const JOBS = {
  /**
   * Converge one lab host to Postgres. One per host at a time (BullMQ deduplication with
   * `keepLastIfActive`): a burst of operations is served by the converge running now and at
   * most one more, whatever its size.
   */
  "host.converge": { payload: HostJob, attempts: 5, backoffMs: 500 },
  /**
   * Read a machine's kernel (interfaces, routes, bridges, fdb, Labnet's rules) and return it
   * as the job's value: a request the gateway waits for (see `HostInspector`). Never
   * deduplicated with the converge job, never retried: an answer that comes late is useless.
   */
  "host.inspect": { payload: InspectJob, attempts: 1, backoffMs: 0 },
  /**
   * Run grading probes (ICMP, TCP, UDP, name lookups) inside the nodes and machines of a lab
   * host and return their results as the job's value (see `HostProber`). Like an inspection:
   * a request the gateway waits for, never retried.
   */
  "host.probe": { payload: ProbeJob, attempts: 1, backoffMs: 0 },
  /**
   * Run one allow-listed diagnostics command (exec-argv.ts) inside a node or a machine and
   * return its exit code and output as the job's value (see `HostExecutor`), its output
   * published on a channel of the request while it runs. A request, never retried.
   */
  "host.exec": { payload: ExecJob, attempts: 1, backoffMs: 0 },
} as const satisfies Record<string, JobSpec>;

export type JobName = keyof typeof JOBS;
/** The payload of job `name`, as its handler receives it (parsed by the catalog's schema). */
export type JobPayload<N extends JobName> = z.infer<(typeof JOBS)[N]["payload"]>;
export const JOB_NAMES = Object.keys(JOBS) as JobName[];

export function isJobName(value: string): value is JobName {
  return Object.hasOwn(JOBS, value);
}

/** One BullMQ queue per lab host. No `:` (BullMQ uses it as its key separator). */
export function hostQueueName(hostId: string): string {
  return `labnet-host-${hostId}`;
}

/** The deduplication id of a host's converge job: at most one waiting and one active. */
export function convergeDedupId(hostId: string): string {
  return `converge-${hostId}`;
}

/**
 * The id of one kernel inspection of a machine: unique per request (a request is never
 * absorbed by another), never all digits, no `:`.
 */
export function inspectJobId(hostId: string, nonce: string): string {
  return `inspect-${hostId}-${nonce}`;
}

/** The id of one probe request: unique per request, like {@link inspectJobId}. */
export function probeJobId(hostId: string, nonce: string): string {
  return `probe-${hostId}-${nonce}`;
}
