import { AsyncLocalStorage } from "node:async_hooks";
import type { Database } from "./client";
import type { Tx } from "./tx";

/** What a top-level transaction has written, as far as a before-commit hook is told. */
export interface TransactionWrites {
  /** Ids of the operations (outbox rows) it inserted, in order. */
  operationIds: string[];
}

const writes = new AsyncLocalStorage<TransactionWrites>();

/** Called by the queries that write outbox rows, so a before-commit hook can name them. */
export function noteOperationWritten(id: string): void {
  writes.getStore()?.operationIds.push(id);
}

/**
 * `db` whose top-level transactions run `beforeCommit` as their last statement(s), inside the
 * transaction: a hook that throws rolls the whole transaction back. Nested transactions
 * (savepoints) and single statements outside a transaction are untouched. The gateway uses it
 * to record, atomically with a request's change, that the request committed.
 *
 * @example
 * const requestDb = withBeforeCommit(db, async (tx, { operationIds }) => { ... });
 * await requestDb.transaction(async (tx) => insertOperation(tx, op)); // hook sees op's id
 */
export function withBeforeCommit(
  db: Database,
  beforeCommit: (tx: Tx, written: Readonly<TransactionWrites>) => Promise<void>,
): Database {
  // Everything else is the pool's own (through the prototype); only `transaction` differs.
  const hooked: Database = Object.create(db);
  hooked.transaction = (body, config) =>
    db.transaction(
      (tx) =>
        writes.run({ operationIds: [] }, async () => {
          const result = await body(tx);
          const written = writes.getStore();
          if (written) {
            await beforeCommit(tx, written);
          }
          return result;
        }),
      config,
    );
  return hooked;
}
