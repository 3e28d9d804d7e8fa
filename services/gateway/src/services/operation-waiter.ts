import { parseNotification } from "@labnet/controller";
import { type Database, getOperation, type Sql } from "@labnet/db";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

export interface OperationWaiter {
  /** Resolves when the operation has finished, or after `timeoutMs`; true if it finished. */
  wait(operationId: string, timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * Serves `Prefer: wait=N`: one LISTEN connection wakes every waiter of an operation
 * when the operations trigger reports it finished. A slow poll covers a missed NOTIFY.
 */
export function createOperationWaiter(db: Database, pg: Sql): OperationWaiter {
  const waiters = new Map<string, Set<() => void>>();
  const wake = (id: string) => {
    for (const resolve of waiters.get(id) ?? []) {
      resolve();
    }
  };
  const listening = pg
    .listen("labnet_operations", (payload) => {
      const event = parseNotification(payload);
      if (event && TERMINAL.has(event.state)) {
        wake(event.id);
      }
    })
    .catch(() => undefined);

  const isDone = async (id: string) => {
    const op = await getOperation(db, id);
    return !op || TERMINAL.has(op.state);
  };

  return {
    async wait(operationId, timeoutMs) {
      await listening;
      let resolveWait = () => {};
      const woken = new Promise<void>((resolve) => {
        resolveWait = resolve;
      });
      const set = waiters.get(operationId) ?? new Set();
      set.add(resolveWait);
      waiters.set(operationId, set);
      const deadline = Date.now() + timeoutMs;
      try {
        // Subscribed first, then checked: a finish between the two cannot be missed.
        while (!(await isDone(operationId))) {
          const left = deadline - Date.now();
          if (left <= 0) {
            return false;
          }
          await Promise.race([woken, new Promise((r) => setTimeout(r, Math.min(left, 1_000)))]);
        }
        return true;
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
