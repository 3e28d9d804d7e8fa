import type { Logger } from "@labnet/log";
import {
  type ExecJob,
  hostQueueName,
  type InspectJob,
  isJobName,
  JOB_NAMES,
  JOBS,
  type JobName,
  type JobPayload,
  type ProbeJob,
} from "@labnet/queue";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { ExecScopeError, runExec } from "./exec";
import type { HostConverger } from "./host-converger";
import { inspectKernel, inspectNodeKernel } from "./kernel/inspect";
import type { Runner } from "./kernel/runner";
import { assertProbesInScope, inScope, type ProbeScope, ProbeScopeError, runProbes } from "./probes";

export interface WorkerDeps {
  /** The lab host whose queue this is. */
  hostId: string;
  connection: Redis;
  queuePrefix: string;
  /** The converger of a machine this executor serves: the lab host's own or a virtual one. */
  convergerOf(hostId: string): Promise<HostConverger | undefined>;
  log: Logger;
  /** Where `host.inspect` reads a machine's kernel: a runner inside its namespace, if served here. */
  runnerOf(hostId: string): Promise<Runner | undefined>;
  /** The namespaces `host.probe` may enter: the lab host's and its machines' (probes/scope.ts). */
  probeScope(): Promise<ProbeScope>;
}

/**
 * Jobs of different machines run side by side (each machine's converges stay one at a time,
 * converge-loop.ts), so thirty students' machines do not wait for each other.
 */
const MACHINES_AT_ONCE = 8;

/** What the executor does for each job of the catalog; the value is the job's return value. */
export type JobHandlers = {
  [N in JobName]: (deps: WorkerDeps, job: JobPayload<N>) => Promise<unknown>;
};

/**
 * One handler per job name. A converge job asks for the next converge of the host and
 * finishes when it has run: every operation recorded before the job was added is settled
 * by then (succeeded, failed, or noted and retried).
 */
export const JOB_HANDLERS: JobHandlers = {
  "host.converge": async (deps, job) => {
    const converger = await deps.convergerOf(job.hostId);
    if (!converger) {
      throw new UnrecoverableError(
        `job for machine ${job.hostId} reached lab host ${deps.hostId}, which does not serve it`,
      );
    }
    await converger.request("changed");
  },
  "host.inspect": (deps, job) => inspectMachine(deps, job),
  "host.probe": (deps, job) => probeMachines(deps, job),
  "host.exec": (deps, job) => execInMachine(deps, job),
};

/**
 * The kernel view of a machine this executor serves, or with `netns` of one of the lab host's
 * nodes (its own or a virtual machine's, in the probes' scope): the job's return value.
 */
async function inspectMachine(deps: WorkerDeps, job: InspectJob): Promise<unknown> {
  const runner = await deps.runnerOf(job.hostId);
  if (!runner) {
    throw new UnrecoverableError(`host.inspect of ${job.hostId}: lab host ${deps.hostId} does not serve it`);
  }
  if (job.netns === undefined) {
    return inspectKernel(runner);
  }
  if (!inScope(job.netns, await deps.probeScope())) {
    throw new UnrecoverableError(
      `host.inspect of ${job.netns}: not a namespace lab host ${deps.hostId} serves`,
    );
  }
  // Node namespaces live under the lab host's /run/netns: entered from the lab host's runner.
  const labHostRunner = await deps.runnerOf(deps.hostId);
  if (!labHostRunner) {
    throw new UnrecoverableError(`host.inspect: lab host ${deps.hostId} has no runner`);
  }
  return inspectNodeKernel(labHostRunner, job.netns);
}

/** One allow-listed diagnostics command inside a node or machine of this lab host (exec/). */
async function execInMachine(deps: WorkerDeps, job: ExecJob): Promise<unknown> {
  if (!(await deps.runnerOf(job.hostId))) {
    throw new UnrecoverableError(`host.exec of ${job.hostId}: lab host ${deps.hostId} does not serve it`);
  }
  try {
    return await runExec(
      {
        labHostId: deps.hostId,
        queuePrefix: deps.queuePrefix,
        inScope: async (netns) => inScope(netns, await deps.probeScope()),
        publish: (channel, message) => deps.connection.publish(channel, message),
      },
      job,
    );
  } catch (error) {
    if (error instanceof ExecScopeError) {
      throw new UnrecoverableError(`host.exec of ${job.hostId}: ${error.message}`);
    }
    throw error;
  }
}

/**
 * Runs grading probes inside namespaces of this lab host and returns their results, the job's
 * value. A namespace outside the lab host's machines refuses the whole job; a probe that fails
 * (a missing namespace included) is only its own `ok: false`.
 */
async function probeMachines(deps: WorkerDeps, job: ProbeJob): Promise<unknown> {
  if (!(await deps.runnerOf(job.hostId))) {
    throw new UnrecoverableError(`host.probe of ${job.hostId}: lab host ${deps.hostId} does not serve it`);
  }
  try {
    assertProbesInScope(job.probes, await deps.probeScope());
  } catch (error) {
    if (error instanceof ProbeScopeError) {
      throw new UnrecoverableError(`host.probe of ${job.hostId}: ${error.message}`);
    }
    throw error;
  }
  return runProbes(job.probes);
}

/** Refuses to run with a job name that has no handler, or a handler for no job. */
export function checkHandlers(handlers: Record<string, unknown>): void {
  const missing = JOB_NAMES.filter((name) => !handlers[name]);
  const extra = Object.keys(handlers).filter((name) => !isJobName(name));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(`job handlers do not match the catalog: missing [${missing}] unknown [${extra}]`);
  }
}

/** Consumes this lab host's queue: converge jobs of its machines (a job is a whole converge). */
export function startWorker(deps: WorkerDeps, handlers: JobHandlers = JOB_HANDLERS): Worker {
  checkHandlers(handlers);
  const worker = new Worker(hostQueueName(deps.hostId), (job) => processJob(deps, handlers, job), {
    connection: deps.connection,
    prefix: deps.queuePrefix,
    concurrency: MACHINES_AT_ONCE,
    // A killed executor's job is picked up again quickly by its successor.
    lockDuration: 15_000,
    stalledInterval: 5_000,
    maxStalledCount: 5,
  });
  worker.on("error", (error) => deps.log.error("worker error", { error: String(error) }));
  return worker;
}

async function processJob(deps: WorkerDeps, handlers: JobHandlers, job: Job): Promise<unknown> {
  if (!isJobName(job.name)) {
    throw new UnrecoverableError(`malformed job ${job.name}: unknown name`);
  }
  const parsed = JOBS[job.name].payload.safeParse(job.data);
  if (!parsed.success) {
    throw new UnrecoverableError(`malformed job ${job.name}: ${parsed.error.message}`);
  }
  // The name picks the schema that parsed the payload, so the handler gets its own payload type.
  const handler = handlers[job.name] as (deps: WorkerDeps, payload: unknown) => Promise<unknown>;
  return handler(deps, parsed.data);
}
