import { type Database, pruneIdempotencyKeys } from "@labnet/db";
import type { Logger } from "@labnet/log";

/** Rows one delete removes; a round deletes batches until nothing is due. */
const PRUNE_BATCH = 10_000;

export interface IdempotencyKeyPruner {
  stop(): Promise<void>;
}

/**
 * Deletes expired Idempotency-Keys every `intervalMs` (an expired key is already treated as
 * unused; this only keeps the table small). Harmless when several gateways do it at once.
 */
export function startIdempotencyKeyPruner(options: {
  db: Database;
  log: Logger;
  intervalMs: number;
}): IdempotencyKeyPruner {
  let running: Promise<void> | undefined;
  let stopped = false;
  const prune = async () => {
    let total = 0;
    for (;;) {
      const removed = await pruneIdempotencyKeys(options.db, PRUNE_BATCH);
      total += removed;
      if (removed < PRUNE_BATCH || stopped) {
        break;
      }
    }
    if (total > 0) {
      options.log.info("idempotency keys pruned", { keys: total });
    }
  };
  const round = () => {
    running ??= prune()
      .catch((error) => options.log.error("idempotency key pruning failed", { error: String(error) }))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(round, options.intervalMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
