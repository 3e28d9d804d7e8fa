import { reportOperationFailed, reportOperationSucceeded } from "@labnet/commands";
import { noteOperationError, type StoredProblem, startOperation } from "@labnet/db";
import type { Logger } from "@labnet/log";
import { EntityJob, hostQueueName, isJobName, JOB_NAMES } from "@labnet/queue";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { ConvergeDeps, SerialLock } from "./converge";
import type { JobHandler } from "./jobs/handlers";

export interface WorkerDeps extends ConvergeDeps {
  connection: Redis;
  queuePrefix: string;
  lock: SerialLock;
  handlers: Record<string, JobHandler>;
  log: Logger;
}

/** Refuses to run with a job name that has no handler, or a handler for no job. */
export function checkHandlers(handlers: Record<string, JobHandler>): void {
  const missing = JOB_NAMES.filter((name) => !handlers[name]);
  const extra = Object.keys(handlers).filter((name) => !isJobName(name));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(`job handlers do not match the catalog: missing [${missing}] unknown [${extra}]`);
  }
}

/** Consumes this host's queue, one job at a time, reporting every outcome in Postgres. */
export function startWorker(deps: WorkerDeps): Worker {
  checkHandlers(deps.handlers);
  const worker = new Worker(hostQueueName(deps.hostId), (job) => processJob(deps, job), {
    connection: deps.connection,
    prefix: deps.queuePrefix,
    concurrency: 1,
    // A killed executor's job is picked up again quickly by its successor.
    lockDuration: 15_000,
    stalledInterval: 5_000,
    maxStalledCount: 5,
  });
  worker.on("error", (error) => deps.log.error("worker error", { error: String(error) }));
  return worker;
}

async function processJob(deps: WorkerDeps, job: Job): Promise<void> {
  const parsed = EntityJob.safeParse(job.data);
  const handler = deps.handlers[job.name];
  if (!parsed.success || !handler) {
    throw new UnrecoverableError(`malformed job ${job.name}: ${parsed.error?.message ?? "no handler"}`);
  }
  const payload = parsed.data;
  if (payload.hostId !== deps.hostId) {
    throw new UnrecoverableError(`job for host ${payload.hostId} reached host ${deps.hostId}`);
  }
  const op = await startOperation(deps.db, payload.operationId);
  if (!op) {
    return; // already finished: a replay after a re-dispatch
  }
  const started = Date.now();
  try {
    await deps.lock.run(() => handler(deps, payload));
    await reportOperationSucceeded(deps.db, op.id);
    deps.log.info("operation succeeded", { op: op.id, kind: op.kind, ms: Date.now() - started });
  } catch (error) {
    const problem = toProblem(error);
    const final = error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    deps.log.warn("operation attempt failed", { op: op.id, kind: op.kind, final, detail: problem.detail });
    if (final) {
      await reportOperationFailed(deps.db, op.id, problem);
    } else {
      await noteOperationError(deps.db, op.id, problem);
    }
    throw error;
  }
}

function toProblem(error: unknown): StoredProblem {
  const detail = error instanceof Error ? error.message : String(error);
  return {
    type: "https://labnet.dev/problems/kernel-operation-failed",
    title: "The lab host could not apply the change",
    status: 500,
    detail: detail.slice(0, 2000),
    code: "KERNEL_OPERATION_FAILED",
  };
}
