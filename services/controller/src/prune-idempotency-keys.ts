import { type Database, pruneIdempotencyKeys } from "@labnet/db";
import type { Logger } from "@labnet/log";
import { type Pruner, startBatchedPruner } from "./batched-pruner";

export type IdempotencyKeyPruner = Pruner;

/**
 * Deletes expired Idempotency-Keys every `intervalMs` (an expired key is already treated as
 * unused; this only keeps the table small). Harmless when several gateways do it at once.
 */
export function startIdempotencyKeyPruner(options: {
  db: Database;
  log: Logger;
  intervalMs: number;
}): IdempotencyKeyPruner {
  return startBatchedPruner({
    what: "idempotency keys",
    log: options.log,
    intervalMs: options.intervalMs,
    pruneBatch: (batch) => pruneIdempotencyKeys(options.db, batch),
  });
}
