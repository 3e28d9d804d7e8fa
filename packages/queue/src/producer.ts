import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { type EntityJob, hostQueueName, JOBS, type JobName } from "./catalog";

/**
 * Puts jobs on host queues. The job id is the operation id, so dispatching the same
 * operation twice is a no-op while the job exists.
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

  async enqueue(name: JobName, payload: EntityJob): Promise<void> {
    const spec = JOBS[name];
    const data = spec.payload.parse(payload);
    await this.queue(data.hostId).add(name, data, {
      jobId: data.operationId,
      attempts: spec.attempts,
      backoff: { type: "exponential", delay: spec.backoffMs },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 24 * 3600 },
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
    this.#queues.clear();
  }
}
