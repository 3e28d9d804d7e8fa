import { type Job, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import { hostQueueName } from "./catalog";
import type { HostQueues } from "./producer";

/** Why a request to an executor got no answer. */
export type HostRequestFailure = "unreachable" | "timeout" | "failed";

/**
 * The executor did not answer: the queue could not take the request (`unreachable`: Redis
 * away), nobody answered in time (`timeout`: no executor running, or it was busy), or the
 * executor answered with an error (`failed`, its reason in the message).
 */
export class HostRequestError extends Error {
  readonly failure: HostRequestFailure;

  constructor(failure: HostRequestFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HostRequestError";
    this.failure = failure;
  }
}

/** One request: the job to add to the lab host's queue. */
export interface HostRequest {
  queueHostId: string;
  name: string;
  data: unknown;
  jobId: string;
  attempts: number;
  /** What was asked, for messages (`the probes`). */
  what: string;
}

/**
 * BullMQ request/response with a lab host's executor: the request is a job whose return value
 * is the answer, awaited through the queue's events. Requests jump the waiting converges
 * (`lifo`). A wait that ends without an answer is settled: a job that finished just then gives
 * its value, a failed one is reported, one still waiting is removed so a returning executor
 * does not run stale requests. Shared by the kernel inspector and the prober.
 */
export class HostRequests {
  readonly #events = new Map<string, QueueEvents>();

  constructor(
    private readonly queues: HostQueues,
    private readonly connection: Redis,
    private readonly prefix = "labnet",
  ) {}

  /** The executor's answer; throws {@link HostRequestError}. */
  async ask(request: HostRequest, timeoutMs: number): Promise<unknown> {
    const { queueHostId } = request;
    let job: Job;
    try {
      job = await this.queues.queue(queueHostId).add(request.name, request.data, {
        jobId: request.jobId,
        attempts: request.attempts,
        lifo: true,
        // The answer travels in the completion event; the job itself need not stay long.
        removeOnComplete: { age: 60, count: 100 },
        removeOnFail: { age: 3600, count: 100 },
      });
    } catch (error) {
      throw new HostRequestError("unreachable", `the queue of host ${queueHostId} is unreachable`, {
        cause: error,
      });
    }
    try {
      return await job.waitUntilFinished(this.#eventsOf(queueHostId), timeoutMs);
    } catch (error) {
      return await this.#settleUnanswered(job, request, timeoutMs, error);
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

  async #settleUnanswered(
    job: Job,
    request: HostRequest,
    timeoutMs: number,
    error: unknown,
  ): Promise<unknown> {
    const { queueHostId } = request;
    const state = await job.getState().catch(() => "unknown");
    if (state === "completed") {
      const finished = await this.queues.queue(queueHostId).getJob(job.id ?? "");
      if (finished) {
        return finished.returnvalue;
      }
    }
    if (state === "failed") {
      const reason = error instanceof Error ? error.message : String(error);
      throw new HostRequestError(
        "failed",
        `the executor of host ${queueHostId} failed ${request.what}: ${reason}`,
        {
          cause: error,
        },
      );
    }
    await job.remove().catch(() => undefined);
    throw new HostRequestError(
      "timeout",
      `the executor of host ${queueHostId} did not answer within ${timeoutMs} ms`,
      {
        cause: error,
      },
    );
  }
}
