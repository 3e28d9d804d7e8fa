import type { Logger } from "@labnet/log";

/** Rows one delete removes; a round deletes batches until nothing is due. */
export const PRUNE_BATCH = 10_000;

export interface Pruner {
  /** Ends the timer and waits for a round under way. */
  stop(): Promise<void>;
}

/**
 * Every `intervalMs`, one round (never two at once): `pruneBatch` is called until it removes
 * fewer than {@link PRUNE_BATCH} rows (or the pruner stops), and the total is logged as
 * `<what> pruned`. A failed round is logged and the next one tries again.
 *
 * @example
 * startBatchedPruner({ what: "events", log, intervalMs: 60_000, pruneBatch: (batch) => prune(db, batch) })
 */
export function startBatchedPruner(options: {
  what: string;
  log: Logger;
  intervalMs: number;
  pruneBatch: (batch: number) => Promise<number>;
}): Pruner {
  let running: Promise<void> | undefined;
  let stopped = false;
  const prune = async () => {
    let total = 0;
    for (;;) {
      const removed = await options.pruneBatch(PRUNE_BATCH);
      total += removed;
      if (removed < PRUNE_BATCH || stopped) {
        break;
      }
    }
    if (total > 0) {
      options.log.info(`${options.what} pruned`, { rows: total });
    }
  };
  const round = () => {
    running ??= prune()
      .catch((error) => options.log.error(`${options.what} pruning failed`, { error: String(error) }))
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
