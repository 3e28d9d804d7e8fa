import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { InspectJob, inspectJobId, JOBS } from "./catalog";
import { HostRequestError, type HostRequestFailure, HostRequests } from "./host-request";
import type { HostQueues } from "./producer";

/** A machine to inspect, and the lab host whose executor answers for it (default: itself). */
export interface InspectTarget {
  hostId: string;
  queueHostId?: string;
  /** A node's sandbox on that machine: the node's kernel instead of the machine's. */
  netns?: string;
}

/** Why an inspection got no answer (see {@link HostRequestError}). */
export type InspectFailure = HostRequestFailure;

/** The executor did not answer an inspection. */
export { HostRequestError as HostInspectError };

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
  readonly #requests: HostRequests;

  constructor(queues: HostQueues, connection: Redis, prefix = "labnet") {
    this.#requests = new HostRequests(queues, connection, prefix);
  }

  /** The executor's answer (the job's return value); throws {@link HostRequestError}. */
  inspect(target: InspectTarget, timeoutMs: number): Promise<unknown> {
    return this.#requests.ask(
      {
        queueHostId: target.queueHostId ?? target.hostId,
        name: "host.inspect",
        data: InspectJob.parse(
          target.netns === undefined
            ? { hostId: target.hostId }
            : { hostId: target.hostId, netns: target.netns },
        ),
        jobId: inspectJobId(target.hostId, randomUUID()),
        attempts: JOBS["host.inspect"].attempts,
        what: "the inspection",
      },
      timeoutMs,
    );
  }

  /** Closes the event listeners (the queues belong to their {@link HostQueues}). */
  close(): Promise<void> {
    return this.#requests.close();
  }
}
