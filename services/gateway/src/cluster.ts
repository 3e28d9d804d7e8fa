/**
 * Gateway workers (LABNET_GATEWAY_WORKERS > 1): the primary process only supervises; each
 * worker is a whole gateway sharing the listening port (node:cluster hands connections out in
 * turn). One Node thread is the gateway's limit under a class's burst, and everything a
 * request needs across calls already lives in Postgres or Redis (idempotency keys, docker exec
 * instances, revocations by NOTIFY), so workers need nothing from each other. What is per
 * process: the controller loops run in worker 0 only, each worker gets an equal share of the
 * rate limits, and /metrics adds up every worker's request counts (see gateway-metrics.ts).
 */
import cluster, { type Worker } from "node:cluster";
import type { Logger } from "@labnet/log";

/** The environment variable that tells a worker its index (0 runs the controller loops). */
export const WORKER_INDEX_ENV = "LABNET_GATEWAY_WORKER";

/** A worker's message to the primary once it serves the API. */
const SERVING = "labnet:gateway-serving";

/** Restart delays of a worker that keeps exiting: 0.5 s doubling to 30 s. */
export function restartDelayMs(restarts: number): number {
  return Math.min(30_000, 500 * 2 ** restarts);
}

/** This process's worker index, undefined when the gateway runs unclustered. */
export function workerIndex(): number | undefined {
  const raw = process.env[WORKER_INDEX_ENV];
  return cluster.isWorker && raw !== undefined ? Number(raw) : undefined;
}

/** In a worker: tell the primary it serves (the primary announces once all do). */
export function reportServing(): void {
  process.send?.({ type: SERVING });
}

/**
 * In a worker: end when the primary is gone (killed without passing on a signal), so no
 * orphan keeps the port.
 */
export function stopWithPrimary(stop: (why: string) => void): void {
  process.on("disconnect", () => stop("primary gone"));
}

/**
 * The primary: starts `count` workers, restarts one that exits (with backoff) unless the
 * gateway is stopping, passes SIGTERM/SIGINT on and exits once every worker has.
 */
export function superviseWorkers(count: number, log: Logger): void {
  let stopping = false;
  let announced = false;
  const serving = new Set<number>();
  const restarts = new Map<number, number>();
  const live = new Map<number, Worker>();

  const start = (index: number) => {
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(index) });
    live.set(index, worker);
    worker.on("message", (message: { type?: string }) => {
      if (message?.type !== SERVING) {
        return;
      }
      restarts.set(index, 0);
      serving.add(index);
      // Once: a restarted worker serving again is no news to whoever waits for the line.
      if (serving.size === count && !announced) {
        announced = true;
        log.info("gateway workers serving", { workers: count });
        process.stdout.write("Labnet API serving\n");
      }
    });
    worker.on("exit", (code, signal) => {
      live.delete(index);
      if (stopping) {
        if (live.size === 0) {
          process.exit(0);
        }
        return;
      }
      const attempt = restarts.get(index) ?? 0;
      restarts.set(index, attempt + 1);
      const delayMs = restartDelayMs(attempt);
      log.error("gateway worker exited, restarting", { worker: index, code, signal, delayMs });
      setTimeout(() => {
        if (!stopping) {
          start(index);
        }
      }, delayMs);
    });
  };

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      return;
    }
    stopping = true;
    log.info("stopping gateway workers", { signal });
    if (live.size === 0) {
      process.exit(0);
    }
    for (const worker of live.values()) {
      worker.process.kill(signal);
    }
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  for (let index = 0; index < count; index++) {
    start(index);
  }
}
