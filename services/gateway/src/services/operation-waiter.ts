import {
  type Database,
  getOperation,
  OPERATIONS_CHANNEL,
  type OperationState,
  parseOperationNotification,
  type Sql,
} from "@labnet/db";

const TERMINAL: ReadonlySet<string> = new Set<OperationState>(["succeeded", "failed", "cancelled"]);

export interface OperationWaiter {
  /**
   * Resolves when the operation has finished, with the state it finished in (as its
   * notification said: no read to learn it; one that no longer exists counts as cancelled), or
   * undefined after `timeoutMs`.
   */
  wait(operationId: string, timeoutMs: number): Promise<OperationState | undefined>;
  stop(): Promise<void>;
}

/**
 * Serves `Prefer: wait=N`: one LISTEN connection wakes every waiter of an operation
 * when the operations trigger reports it finished. A slow poll covers a missed NOTIFY.
 */
export function createOperationWaiter(db: Database, pg: Sql): OperationWaiter {
  const waiters = new Map<string, Set<(state: OperationState) => void>>();
  const wake = (id: string, state: OperationState) => {
    for (const resolve of waiters.get(id) ?? []) {
      resolve(state);
    }
  };
  const listening = pg
    .listen(OPERATIONS_CHANNEL, (payload) => {
      const event = parseOperationNotification(payload);
      if (event && TERMINAL.has(event.state)) {
        wake(event.id, event.state as OperationState);
      }
    })
    .catch(() => undefined);

  /** The state it finished in; undefined while open. A vanished operation counts as cancelled. */
  const finished = async (id: string): Promise<OperationState | undefined> => {
    const op = await getOperation(db, id);
    return !op ? "cancelled" : TERMINAL.has(op.state) ? op.state : undefined;
  };

  return {
    async wait(operationId, timeoutMs) {
      await listening;
      let resolveWait: (state: OperationState) => void = () => {};
      const woken = new Promise<OperationState>((resolve) => {
        resolveWait = resolve;
      });
      const set = waiters.get(operationId) ?? new Set();
      set.add(resolveWait);
      waiters.set(operationId, set);
      const deadline = Date.now() + timeoutMs;
      try {
        // Subscribed first, then checked: a finish between the two cannot be missed.
        for (let state = await finished(operationId); ; state = await finished(operationId)) {
          if (state) {
            return state;
          }
          const left = deadline - Date.now();
          if (left <= 0) {
            return undefined;
          }
          const notified = await Promise.race([
            woken,
            new Promise<undefined>((r) => setTimeout(() => r(undefined), Math.min(left, 1_000))),
          ]);
          if (notified) {
            return notified;
          }
        }
      } finally {
        set.delete(resolveWait);
        if (set.size === 0) {
          waiters.delete(operationId);
        }
      }
    },
    async stop() {
      const subscription = await listening;
      await subscription?.unlisten();
    },
  };
}
