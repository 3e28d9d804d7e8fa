import { type Database, DatabaseLock, pruneEvents } from "@labnet/db";
import type { Logger } from "@labnet/log";
import { sql } from "drizzle-orm";
import { type Pruner, startBatchedPruner } from "./batched-pruner";

/** Events are kept this long (7 days)... */
export const EVENT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** ...and at most this many (the newest). */
export const EVENT_RETENTION_ROWS = 1_000_000;
export type EventPruner = Pruner;

/**
 * The controller's events retention, every `intervalMs`: events older than `maxAgeMs` or
 * beyond the newest `maxRows` are deleted in batches. A client whose `Last-Event-ID` is older
 * than what is kept replays from the oldest event left. One gateway prunes at a time (an
 * advisory lock); one round at a time.
 */
export function startEventPruner(options: {
  db: Database;
  log: Logger;
  intervalMs: number;
  maxAgeMs?: number;
  maxRows?: number;
}): EventPruner {
  const limits = {
    maxAgeMs: options.maxAgeMs ?? EVENT_RETENTION_MS,
    maxRows: options.maxRows ?? EVENT_RETENTION_ROWS,
  };
  return startBatchedPruner({
    what: "events",
    log: options.log,
    intervalMs: options.intervalMs,
    pruneBatch: (batch) =>
      options.db.transaction(async (tx) => {
        const [lock] = await tx.execute<{ locked: boolean }>(
          sql`SELECT pg_try_advisory_xact_lock(${DatabaseLock.EventPrune}) AS locked`,
        );
        return lock?.locked ? pruneEvents(tx, { ...limits, batch }) : 0;
      }),
  });
}
