import {
  claimDispatchable,
  type Database,
  OPERATIONS_CHANNEL,
  parseOperationNotification,
  type Sql,
  unmarkDispatched,
} from "@labnet/db";
import type { Logger } from "@labnet/log";
import type { HostQueues } from "@labnet/queue";

/**
 * Shortest time between the starts of two dispatch rounds (see kick): a burst's rounds cost at
 * most 40 a second (a host converges one to three times a second under a burst, so a round
 * every 25 ms keeps its next converge fed).
 */
const MIN_ROUND_GAP_MS = 25;
/** Operations one round claims at most; a full round is followed by another. */
const CLAIM_LIMIT = 5000;
/** Ids of operations this dispatcher claimed, kept until their NOTIFY comes (bounded). */
const CLAIMED_MAX = 20_000;

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
  // A creation in this process kicks a round that claims its operation, and the operation's
  // NOTIFY arrives after that: a round for it would claim nothing (a statement per write).
  const claimedHere = new Set<string>();

  /** One claim-and-dispatch pass; a kick while it runs has the next one follow it (throttled). */
  const round = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      // Claim what is due in one statement, then ask the hosts outside it: a slow Redis never
      // holds a transaction open, and one converge request per host serves all of that host's
      // operations however many there are.
      const due = await claimDispatchable(db, { redispatchAfterMs, limit: CLAIM_LIMIT });
      if (claimedHere.size + due.length > CLAIMED_MAX) {
        claimedHere.clear();
      }
      for (const op of due) {
        claimedHere.add(op.id);
      }
      if (due.length > 0) {
        try {
          await queues.requestConverge(due);
          again ||= due.length === CLAIM_LIMIT;
        } catch (error) {
          // Redis away: put them back in the outbox; the next round (or the poll) retries.
          log.warn("dispatch failed", { operations: due.length, error: String(error) });
          await unmarkDispatched(
            db,
            due.map((op) => op.id),
          );
          for (const op of due) {
            claimedHere.delete(op.id);
          }
          again = false;
        }
      }
    } catch (error) {
      log.error("dispatch round failed", { error: String(error) });
    } finally {
      running = false;
    }
    if (again) {
      again = false;
      kick();
    }
  };

  // During a burst every creation kicks (its command, then its NOTIFY): rounds start at most
  // every MIN_ROUND_GAP_MS, so one round claims what many creations wrote (a round costs a
  // statement and a Redis call, a millisecond or more of the gateway's CPU). An idle
  // dispatcher starts at once, so a single call waits for nothing.
  let lastRound = Number.NEGATIVE_INFINITY;
  let delayed: NodeJS.Timeout | undefined;
  const kick = () => {
    if (stopped || delayed) {
      return;
    }
    const wait = lastRound + MIN_ROUND_GAP_MS - performance.now();
    if (wait <= 0) {
      lastRound = performance.now();
      void round();
      return;
    }
    delayed = setTimeout(() => {
      delayed = undefined;
      lastRound = performance.now();
      void round();
    }, wait);
  };
  const timer = setInterval(kick, options.pollMs ?? 2_000);
  const listening = pg
    .listen(OPERATIONS_CHANNEL, (payload) => {
      const notification = parseOperationNotification(payload);
      // An operation is `queued` once, at its insert (retries keep it running): the NOTIFY of
      // one a round here claimed already needs no round.
      if (notification?.state === "queued" && !claimedHere.delete(notification.id)) {
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
      clearTimeout(delayed);
      const subscription = await listening;
      await subscription?.unlisten();
      while (running) {
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
