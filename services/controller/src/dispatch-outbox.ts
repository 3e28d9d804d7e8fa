import {
  type Database,
  DatabaseLock,
  listDispatchable,
  markDispatched,
  type Sql,
  unmarkDispatched,
} from "@labnet/db";
import type { Logger } from "@labnet/log";
import type { HostQueues } from "@labnet/queue";
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
 * Moves operations from the Postgres outbox to their hosts: a converge request per host
 * with due operations. Woken by the operations trigger's NOTIFY, by kick(), and by a slow
 * poll. Each round claims under a transaction-level advisory lock, so several gateways
 * dispatch without doubling work; a double dispatch would be harmless anyway (converge
 * requests are deduplicated per host, and a converge settles what its snapshot holds).
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
        // Claim what is due in one short transaction, then ask the hosts outside it: a slow
        // Redis never holds a transaction open, and one converge request per host serves all
        // of that host's operations however many there are.
        const due = await db.transaction(async (tx) => {
          const [lock] = await tx.execute<{ locked: boolean }>(
            sql`SELECT pg_try_advisory_xact_lock(${DatabaseLock.OutboxDispatch}) AS locked`,
          );
          if (!lock?.locked) {
            return [];
          }
          const rows = await listDispatchable(tx, { redispatchAfterMs, limit: 5000 });
          await markDispatched(
            tx,
            rows.map((op) => op.id),
          );
          return rows;
        });
        if (due.length === 0) {
          continue;
        }
        try {
          await queues.requestConverge(due.map((op) => op.hostId));
        } catch (error) {
          // Redis away: put them back in the outbox; the next round (or the poll) retries.
          log.warn("dispatch failed", { operations: due.length, error: String(error) });
          await unmarkDispatched(
            db,
            due.map((op) => op.id),
          );
          break;
        }
        if (due.length === 5000) {
          again = true;
        }
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
