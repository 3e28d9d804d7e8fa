import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { convergeDedupId, HostJob, hostQueueName, JOBS } from "./catalog";

/** A machine to converge, and the lab host whose queue carries it (default: the machine itself). */
export interface ConvergeTarget {
  hostId: string;
  queueHostId?: string;
}

/**
 * Asks lab hosts to converge. One job per host at a time, whatever the number of operations
 * behind it: a request while a converge job waits is absorbed by it, and a request while one
 * runs leaves exactly one more behind it (BullMQ deduplication, `keepLastIfActive`), which
 * serves everything recorded meanwhile.
 */
export class HostQueues {
  readonly #queues = new Map<string, Queue>();

  constructor(
    private readonly connection: Redis,
    private readonly prefix = "labnet",
  ) {}

  queue(hostId: string): Queue {
    let queue = this.#queues.get(hostId);
    if (!queue) {
      queue = new Queue(hostQueueName(hostId), { connection: this.connection, prefix: this.prefix });
      this.#queues.set(hostId, queue);
    }
    return queue;
  }

  /**
   * Requests a converge of each machine (deduplicated per machine), on the queue of the lab
   * host whose executor converges it: the machine itself for a lab host, its parent for a
   * virtual machine.
   */
  async requestConverge(targets: Iterable<ConvergeTarget>): Promise<void> {
    const spec = JOBS["host.converge"];
    const unique = new Map([...targets].map((t) => [t.hostId, t.queueHostId ?? t.hostId]));
    await Promise.all(
      [...unique].map(([hostId, queueHostId]) => {
        const data = HostJob.parse({ hostId });
        return this.queue(queueHostId).add("host.converge", data, {
          deduplication: { id: convergeDedupId(hostId), keepLastIfActive: true },
          attempts: spec.attempts,
          backoff: { type: "exponential", delay: spec.backoffMs },
          removeOnComplete: { age: 3600, count: 100 },
          removeOnFail: { age: 24 * 3600, count: 1000 },
        });
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
    this.#queues.clear();
  }
}
