import { randomUUID } from "node:crypto";
import { type Job, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import { z } from "zod";
import { hostQueueName, JOBS, probeJobId } from "./catalog";
import { type Probe, ProbeJob, ProbeResult } from "./probe";
import type { HostQueues } from "./producer";

/** The machine whose probes these are, and its lab host (whose executor runs them) if virtual. */
export interface ProbeHost {
  id: string;
  parentHostId?: string | null;
}

/** Why probes got no answer: as for an inspection (see `HostInspectError`). */
export type ProbeFailure = "unreachable" | "timeout" | "failed";

/**
 * The executor did not answer a probe request: the queue could not take it (`unreachable`),
 * nobody answered in time (`timeout`), or the executor refused or failed the job (`failed`,
 * e.g. a namespace that is not its own). A probe that merely fails is not an error: it is a
 * result with `ok: false`.
 */
export class HostProbeError extends Error {
  readonly failure: ProbeFailure;

  constructor(failure: ProbeFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HostProbeError";
    this.failure = failure;
  }
}

const ProbeResults = z.array(ProbeResult);

/**
 * Runs grading probes on a lab host's executor and waits for their results (BullMQ
 * request/response: a `host.probe` job whose return value is `ProbeResult[]`, in the order of
 * the probes). The payload is validated here too, so a bad probe fails at the caller, before
 * it reaches a queue.
 *
 * @example
 * const prober = new HostProber(queues, redis, "labnet");
 * const [result] = await prober.probe(machine, [
 *   { id: "c1", kind: "icmp", from: { netns: "ln-abcdefghijklmnop" }, target: "web_container.app", timeoutMs: 2_000 },
 * ], 15_000);
 */
export class HostProber {
  readonly #events = new Map<string, QueueEvents>();

  constructor(
    private readonly queues: HostQueues,
    private readonly connection: Redis,
    private readonly prefix = "labnet",
  ) {}

  /**
   * The results of `probes` run from `host`'s lab host (routed to `parentHostId ?? id`); waits
   * at most `timeoutMs` for them. Throws {@link HostProbeError}, or a zod error for bad probes.
   */
  async probe(host: ProbeHost, probes: readonly Probe[], timeoutMs: number): Promise<ProbeResult[]> {
    const data = ProbeJob.parse({ hostId: host.id, probes });
    if (data.probes.length === 0) {
      return [];
    }
    const queueHostId = host.parentHostId ?? host.id;
    const spec = JOBS["host.probe"];
    let job: Job;
    try {
      job = await this.queues.queue(queueHostId).add("host.probe", data, {
        jobId: probeJobId(host.id, randomUUID()),
        attempts: spec.attempts,
        // Jumps the waiting converges, like an inspection: a grading run waits for nobody's queue.
        lifo: true,
        removeOnComplete: { age: 60, count: 100 },
        removeOnFail: { age: 3600, count: 100 },
      });
    } catch (error) {
      throw new HostProbeError("unreachable", `the queue of host ${queueHostId} is unreachable`, {
        cause: error,
      });
    }
    let answer: unknown;
    try {
      answer = await job.waitUntilFinished(this.#eventsOf(queueHostId), timeoutMs);
    } catch (error) {
      answer = await this.#settleUnanswered(job, queueHostId, timeoutMs, error);
    }
    const results = ProbeResults.safeParse(answer);
    if (!results.success) {
      throw new HostProbeError("failed", `the executor of host ${queueHostId} answered probes unreadably`, {
        cause: results.error,
      });
    }
    return results.data;
  }

  /** Closes the event listeners (the queues belong to their {@link HostQueues}). */
  async close(): Promise<void> {
    await Promise.all([...this.#events.values()].map((events) => events.close()));
    this.#events.clear();
  }

  #eventsOf(queueHostId: string): QueueEvents {
    let events = this.#events.get(queueHostId);
    if (!events) {
      // A blocking reader of its own (options, not an instance): the producers' connection fails fast.
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

  /** As `HostInspector`: a late answer is used, a failure reported, a waiting job removed. */
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
      throw new HostProbeError("failed", `the executor of host ${queueHostId} failed the probes: ${reason}`, {
        cause: error,
      });
    }
    await job.remove().catch(() => undefined);
    throw new HostProbeError(
      "timeout",
      `the executor of host ${queueHostId} did not answer within ${timeoutMs} ms`,
      { cause: error },
    );
  }
}
