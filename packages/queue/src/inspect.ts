import { randomUUID } from "node:crypto";
import { type Job, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import { HostJob, hostQueueName, inspectJobId, JOBS } from "./catalog";
import type { HostQueues } from "./producer";

/** A machine to inspect, and the lab host whose executor answers for it (default: itself). */
export interface InspectTarget {
  hostId: string;
  queueHostId?: string;
}

/** Why an inspection got no answer. */
export type InspectFailure = "unreachable" | "timeout" | "failed";

/**
 * The executor did not answer an inspection: the queue could not take the request
 * (`unreachable`: Redis away), nobody answered in time (`timeout`: no executor running, or it
 * was busy), or the executor answered with an error (`failed`, its reason in the message).
 */
export class HostInspectError extends Error {
  readonly failure: InspectFailure;

  constructor(failure: InspectFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HostInspectError";
    this.failure = failure;
  }
}

/**
 * Asks a lab host's executor for the kernel truth of a machine and waits for the answer
 * (BullMQ request/response: a `host.inspect` job whose return value is the view, awaited
 * through the queue's events). Inspections jump the waiting converge jobs (`lifo`) but wait
 * for the one running, since a host's worker runs one job at a time.
 *
 * @example
 * const inspector = new HostInspector(queues, redis, "labnet");
 * const view = await inspector.inspect({ hostId: host.id }, 5_000);
 */
export class HostInspector {
  readonly #events = new Map<string, QueueEvents>();

  constructor(
    private readonly queues: HostQueues,
    private readonly connection: Redis,
    private readonly prefix = "labnet",
  ) {}

  /** The executor's answer (the job's return value); throws {@link HostInspectError}. */
  async inspect(target: InspectTarget, timeoutMs: number): Promise<unknown> {
    const queueHostId = target.queueHostId ?? target.hostId;
    const queue = this.queues.queue(queueHostId);
    const spec = JOBS["host.inspect"];
    let job: Job;
    try {
      job = await queue.add("host.inspect", HostJob.parse({ hostId: target.hostId }), {
        jobId: inspectJobId(target.hostId, randomUUID()),
        attempts: spec.attempts,
        lifo: true,
        // The answer travels in the completion event; the job itself need not stay long.
        removeOnComplete: { age: 60, count: 100 },
        removeOnFail: { age: 3600, count: 100 },
      });
    } catch (error) {
      throw new HostInspectError("unreachable", `the queue of host ${queueHostId} is unreachable`, {
        cause: error,
      });
    }
    try {
      return await job.waitUntilFinished(this.#eventsOf(queueHostId), timeoutMs);
    } catch (error) {
      return await this.#settleUnanswered(job, queueHostId, timeoutMs, error);
    }
  }

  /** Closes the event listeners (the queues belong to their {@link HostQueues}). */
  async close(): Promise<void> {
    await Promise.all([...this.#events.values()].map((events) => events.close()));
    this.#events.clear();
  }

  #eventsOf(queueHostId: string): QueueEvents {
    let events = this.#events.get(queueHostId);
    if (!events) {
      // A blocking reader of its own, which BullMQ opens and closes (options, not an instance):
      // the producers' connection fails fast instead of waiting.
      events = new QueueEvents(hostQueueName(queueHostId), {
        connection: {
          ...(this.connection.options as Record<string, unknown>),
          maxRetriesPerRequest: null,
          enableOfflineQueue: true,
        },
        prefix: this.prefix,
      });
      events.on("error", () => undefined);
      this.#events.set(queueHostId, events);
    }
    return events;
  }

  /**
   * Decides what a wait that ended without an answer means: the job may have finished just
   * as the wait gave up (its value is then used), failed in the executor, or be still waiting,
   * in which case it is removed so a returning executor does not run stale requests.
   */
  async #settleUnanswered(
    job: Job,
    queueHostId: string,
    timeoutMs: number,
    error: unknown,
  ): Promise<unknown> {
    const state = await job.getState().catch(() => "unknown");
    if (state === "completed") {
      const finished = await this.queues.queue(queueHostId).getJob(job.id ?? "");
      if (finished) {
        return finished.returnvalue;
      }
    }
    if (state === "failed") {
      const reason = error instanceof Error ? error.message : String(error);
      throw new HostInspectError("failed", `the executor of host ${queueHostId} failed: ${reason}`, {
        cause: error,
      });
    }
    await job.remove().catch(() => undefined);
    throw new HostInspectError(
      "timeout",
      `the executor of host ${queueHostId} did not answer within ${timeoutMs} ms`,
      { cause: error },
    );
  }
}
