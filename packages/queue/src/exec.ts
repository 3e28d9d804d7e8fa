/** Runs allow-listed diagnostics commands on executors: request/response over the host queues. */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { JOBS } from "./catalog";
import { ExecJob, ExecResult, type ExecTarget, execChannel, execJobId } from "./exec-job";
import { HostRequestError, HostRequests } from "./host-request";
import type { HostQueues } from "./producer";

/** What to run where: the machine, its lab host (whose executor runs it) and the command. */
export interface ExecRequest {
  hostId: string;
  queueHostId: string;
  target: ExecTarget;
  argv: readonly string[];
  timeoutMs: number;
  /** A request id of the caller's (for streaming: subscribe to {@link execChannel} first). */
  requestId?: string;
  stream?: boolean;
}

/** How long past the command's own limit the caller waits for the answer (queue, spawn). */
const ANSWER_GRACE_MS = 10_000;

/**
 * Runs one diagnostics command on a lab host's executor and waits for its answer (BullMQ
 * request/response: a `host.exec` job whose return value is the {@link ExecResult}). The
 * payload is validated here (allow-list included), so a refused argv never reaches a queue.
 *
 * @example
 * const executor = new HostExecutor(queues, redis, "labnet");
 * const result = await executor.exec({ hostId, queueHostId: hostId, target: { node: "ln-..." },
 *   argv: ["ping", "-c", "1", "web"], timeoutMs: 10_000 });
 */
export class HostExecutor {
  readonly #requests: HostRequests;
  readonly #prefix: string;

  constructor(queues: HostQueues, connection: Redis, prefix = "labnet") {
    this.#requests = new HostRequests(queues, connection, prefix);
    this.#prefix = prefix;
  }

  /** The channel a streamed request's output is published on (subscribe before `exec`). */
  channelOf(requestId: string): string {
    return execChannel(this.#prefix, requestId);
  }

  /** Throws {@link HostRequestError}, or a zod error for a refused command. */
  async exec(request: ExecRequest): Promise<ExecResult> {
    const requestId = request.requestId ?? randomUUID();
    const data = ExecJob.parse({
      hostId: request.hostId,
      requestId,
      target: request.target,
      argv: [...request.argv],
      timeoutMs: request.timeoutMs,
      stream: request.stream ?? false,
    });
    const answer = await this.#requests.ask(
      {
        queueHostId: request.queueHostId,
        name: "host.exec",
        data,
        jobId: execJobId(request.hostId, requestId),
        attempts: JOBS["host.exec"].attempts,
        what: "the command",
      },
      request.timeoutMs + ANSWER_GRACE_MS,
    );
    const result = ExecResult.safeParse(answer);
    if (!result.success) {
      throw new HostRequestError(
        "failed",
        `the executor of host ${request.queueHostId} answered the command unreadably`,
        { cause: result.error },
      );
    }
    return result.data;
  }

  /** Closes the event listeners (the queues belong to their {@link HostQueues}). */
  close(): Promise<void> {
    return this.#requests.close();
  }
}
