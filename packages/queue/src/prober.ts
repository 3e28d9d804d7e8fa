import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { z } from "zod";
import { JOBS, probeJobId } from "./catalog";
import { HostRequestError, type HostRequestFailure, HostRequests } from "./host-request";
import { type Probe, ProbeJob, ProbeResult } from "./probe";
import type { HostQueues } from "./producer";

/** The machine whose probes these are, and its lab host (whose executor runs them) if virtual. */
export interface ProbeHost {
  id: string;
  parentHostId?: string | null;
}

/** Why probes got no answer (see {@link HostRequestError}). */
export type ProbeFailure = HostRequestFailure;

/**
 * The executor did not answer a probe request. A probe that merely fails is not an error: it
 * is a result with `ok: false`.
 */
export { HostRequestError as HostProbeError };

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
  readonly #requests: HostRequests;

  constructor(queues: HostQueues, connection: Redis, prefix = "labnet") {
    this.#requests = new HostRequests(queues, connection, prefix);
  }

  /**
   * The results of `probes` run from `host`'s lab host (routed to `parentHostId ?? id`); waits
   * at most `timeoutMs` for them. Throws {@link HostRequestError}, or a zod error for bad probes.
   */
  async probe(host: ProbeHost, probes: readonly Probe[], timeoutMs: number): Promise<ProbeResult[]> {
    const data = ProbeJob.parse({ hostId: host.id, probes });
    if (data.probes.length === 0) {
      return [];
    }
    const queueHostId = host.parentHostId ?? host.id;
    const answer = await this.#requests.ask(
      {
        queueHostId,
        name: "host.probe",
        data,
        jobId: probeJobId(host.id, randomUUID()),
        attempts: JOBS["host.probe"].attempts,
        what: "the probes",
      },
      timeoutMs,
    );
    const results = ProbeResults.safeParse(answer);
    if (!results.success) {
      throw new HostRequestError("failed", `the executor of host ${queueHostId} answered probes unreadably`, {
        cause: results.error,
      });
    }
    return results.data;
  }

  /** Closes the event listeners (the queues belong to their {@link HostQueues}). */
  close(): Promise<void> {
    return this.#requests.close();
  }
}
