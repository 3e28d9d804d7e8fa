import { type Database, DatabaseLock, listDispatchable, markDispatched, type Sql } from "@labnet/db";
import type { Logger } from "@labnet/log";
import { type HostQueues, isJobName } from "@labnet/queue";
import { sql } from "drizzle-orm";

export interface OutboxDispatcherOptions {
  db: Database;
  /** The raw client, for LISTEN. */
  pg: Sql;
  queues: HostQueues;
  log: Logger;
  /** Safety net poll, in case a notification is missed. */
  pollMs?: number;
  /** Open operations dispatched longer ago than this are dispatched again (Redis may have lost them). */
  redispatchAfterMs?: number;
}

export interface OutboxDispatcher {
  /** Dispatch now (after a commit that wrote operations). */
  kick(): void;
  stop(): Promise<void>;
}

/**
 * Moves operations from the Postgres outbox onto their host's queue. Woken by the
 * operations trigger's NOTIFY, by kick(), and by a slow poll. Each round holds a
 * transaction-level advisory lock, so several gateways dispatch without doubling work;
 * a double dispatch would be harmless anyway (the job id is the operation id).
 */
export function startOutboxDispatcher(options: OutboxDispatcherOptions): OutboxDispatcher {
  const { db, pg, queues, log } = options;
  const redispatchAfterMs = options.redispatchAfterMs ?? 30_000;
  let running = false;
  let again = false;
  let stopped = false;

  const round = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await db.transaction(async (tx) => {
          const [lock] = await tx.execute<{ locked: boolean }>(
            sql`SELECT pg_try_advisory_xact_lock(${DatabaseLock.OutboxDispatch}) AS locked`,
          );
          if (!lock?.locked) {
            return;
          }
          const due = await listDispatchable(tx, { redispatchAfterMs, limit: 500 });
          const sent: string[] = [];
          for (const op of due) {
            if (!isJobName(op.kind)) {
              log.error("operation of unknown kind", { op: op.id, kind: op.kind });
              continue;
            }
            try {
              await queues.enqueue(op.kind, { operationId: op.id, hostId: op.hostId, targetId: op.targetId });
              sent.push(op.id);
            } catch (error) {
              // Redis away: leave it in the outbox; the next round retries.
              log.warn("dispatch failed", { op: op.id, error: String(error) });
              break;
            }
          }
          await markDispatched(tx, sent);
        });
      } while (again && !stopped);
    } catch (error) {
      log.error("dispatch round failed", { error: String(error) });
    } finally {
      running = false;
    }
  };

  const kick = () => {
    if (!stopped) {
      void round();
    }
  };
  const timer = setInterval(kick, options.pollMs ?? 2_000);
  const listening = pg
    .listen("labnet_operations", (payload) => {
      if (parseNotification(payload)?.state === "queued") {
        kick();
      }
    })
    .catch((error) => {
      log.warn("LISTEN failed; dispatching by poll only", { error: String(error) });
      return undefined;
    });
  kick();

  return {
    kick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      const subscription = await listening;
      await subscription?.unlisten();
      while (running) {
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** The operations trigger's NOTIFY payload. */
export interface OperationNotification {
  id: string;
  state: string;
  hostId: string;
  kind: string;
  targetId: string;
}

export function parseNotification(payload: string): OperationNotification | undefined {
  try {
    const value: unknown = JSON.parse(payload);
    return typeof value === "object" && value !== null && "id" in value && "state" in value
      ? (value as OperationNotification)
      : undefined;
  } catch {
    return undefined;
  }
}
