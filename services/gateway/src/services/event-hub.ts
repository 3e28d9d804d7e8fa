import {
  type Database,
  EVENTS_CHANNEL,
  type EventRow,
  lastEventId,
  readCommittedEvents,
  readEventsHead,
  type Sql,
  takeTransactionBound,
} from "@labnet/db";
import type { Logger } from "@labnet/log";

/** Receives every event the hub delivers, in id order, once each (synchronously). */
export interface EventListener {
  deliver(rows: readonly EventRow[]): void;
  /** The hub is stopping: end the stream. */
  close(): void;
}

/**
 * The gateway's view of the events table: the delivery horizon and the live fan-out to
 * streams. Every id up to {@link EventHub.horizon} is settled: its event is visible in the
 * table or will never exist (a rolled-back transaction). Replays read the table up to the
 * horizon; live listeners get everything after it, each event once, in id order.
 */
export interface EventHub {
  /** Resolves once the horizon is known (the hub has started). */
  ready(): Promise<void>;
  /**
   * Resolves once the horizon has reached every event committed before the call (or after
   * `timeoutMs`, default 5 s): what a page or a new stream starts from.
   */
  settle(timeoutMs?: number): Promise<void>;
  horizon(): number;
  subscribe(listener: EventListener): () => void;
  stop(): Promise<void>;
}

export interface EventHubOptions {
  db: Database;
  /** LISTEN runs on a dedicated connection of this client (postgres.js keeps one for listeners). */
  pg: Sql;
  log: Logger;
  /** Safety net for a missed NOTIFY (a LISTEN reconnecting); default 1 s. */
  pollMs?: number;
}

/** Rows one round reads. */
const PAGE = 1_000;
/**
 * Rounds start at most this often during a burst (each NOTIFY asks for one): one read and one
 * write per stream serve every event of that window, so 100 streams cost 100 writes per round,
 * not per event. With many streams the gap widens (up to MAX_ROUND_GAP_MS): a write costs the
 * gateway tens of microseconds whatever it carries, and a console does not see 250 ms.
 */
const MIN_ROUND_GAP_MS = 50;
const MAX_ROUND_GAP_MS = 250;
/** Streams per MIN_ROUND_GAP_MS of gap. */
const STREAMS_PER_GAP_STEP = 20;

/** The gap between rounds for `streams` listeners. */
export function roundGapMs(streams: number): number {
  return Math.min(
    MAX_ROUND_GAP_MS,
    MIN_ROUND_GAP_MS * Math.max(1, Math.ceil(streams / STREAMS_PER_GAP_STEP)),
  );
}
/**
 * Without a stream, rounds only keep the horizon near the head, so they come at most this
 * often: a burst's NOTIFYs would otherwise cost three or four statements every
 * MIN_ROUND_GAP_MS in each worker for nobody. What needs the horizon current (a page, a new
 * stream) asks for it with `settle()`, which runs rounds at once; a new stream's
 * subscription starts one.
 */
const IDLE_ROUND_GAP_MS = 1_000;
/** While a gap waits for the transactions that may still fill it, look again this often. */
const GAP_CHECK_MS = 50;
/**
 * A gap left open longer than this (a transaction idle for minutes) is given up on, so one
 * stuck session cannot stop every stream; logged, since a late event would then be missed.
 */
const MAX_GAP_WAIT_MS = 60_000;

/**
 * Starts the hub: LISTEN `labnet_events` (a transaction that wrote events NOTIFYs it at commit), and on
 * each notification read what follows the horizon.
 *
 * Ids are taken when a transaction writes its event but become visible when it commits, so
 * id 11 can be visible while id 10's transaction is still open: delivering 11 would make a
 * client that reconnects with `Last-Event-ID: 11` miss 10 forever. So the horizon stops at
 * the first missing id and passes it only once every transaction that held a transaction id
 * when the gap was seen has ended (then 10 is visible, or rolled back for good; see
 * `takeTransactionBound`). Writers pay nothing for this. With no listener, rounds only move
 * the horizon (the head id, no rows read).
 */
export function startEventHub(options: EventHubOptions): EventHub {
  const { db, pg, log } = options;
  const listeners = new Set<EventListener>();
  let horizon = 0;
  /** The first missing id and the transaction bound taken after it was seen. */
  let gap: { fromId: number; bound: string; seenAt: number } | undefined;
  /** Idle rounds: the last head seen, adopted once the transactions below its bound have ended. */
  let head: { lastId: number; bound: string } | undefined;
  let isStarted = false;
  let running = false;
  let again = false;
  let stopped = false;
  let lastRound = Number.NEGATIVE_INFINITY;
  let delayed: NodeJS.Timeout | undefined;
  let delayedDue = Number.POSITIVE_INFINITY;

  const advanceIdle = async () => {
    const now = await readEventsHead(db, head?.bound);
    if (head && now.sinceSettled) {
      adoptIdleHead(head.lastId);
    }
    head = undefined;
    if (now.lastId <= horizon) {
      return;
    }
    // Usually nothing is open below a bound taken now, and the head is adopted at once.
    const bound = await takeTransactionBound(db);
    if ((await readEventsHead(db, bound)).sinceSettled) {
      adoptIdleHead(now.lastId);
    } else {
      head = { lastId: now.lastId, bound };
      later(gapMs());
    }
  };

  /** Moves the horizon to a settled head, unless a stream subscribed meanwhile. */
  const adoptIdleHead = (lastId: number) => {
    if (listeners.size > 0) {
      // That stream may be live at the current horizon: jumping now would skip what it must
      // get. The next round reads the rows instead.
      again = true;
      return;
    }
    horizon = Math.max(horizon, lastId);
    gap = undefined;
  };

  const advance = async () => {
    head = undefined;
    const read = await readCommittedEvents(db, { after: horizon, limit: PAGE, since: gap?.bound });
    const delivered: EventRow[] = [];
    let expected = horizon + 1;
    let newGap: number | undefined;
    for (const row of read.rows) {
      if (row.id !== expected) {
        const settled = gap?.fromId === expected && read.sinceSettled;
        const overdue = gap?.fromId === expected && Date.now() - gap.seenAt > MAX_GAP_WAIT_MS;
        if (!settled && !overdue) {
          if (gap?.fromId !== expected) {
            newGap = expected;
          }
          break;
        }
        if (overdue && !settled) {
          log.warn("event ids skipped: their transactions are still open", {
            from: expected,
            to: row.id - 1,
          });
        }
      }
      delivered.push(row);
      expected = row.id + 1;
    }
    if (gap && gap.fromId < expected) {
      gap = undefined;
    }
    if (newGap !== undefined) {
      // Taken after the read, so it is above the missing id's writer.
      gap = { fromId: newGap, bound: await takeTransactionBound(db), seenAt: Date.now() };
    }
    horizon = expected - 1;
    if (delivered.length > 0) {
      for (const listener of listeners) {
        listener.deliver(delivered);
      }
    }
    if (gap) {
      // No sooner than a round would come: under a burst gaps are constant, and each look
      // costs a read (and a write to every stream when it delivers).
      later(Math.max(GAP_CHECK_MS, roundGapMs(listeners.size)));
    } else if (read.rows.length === PAGE) {
      again = true;
    }
  };

  const round = async (): Promise<void> => {
    if (!isStarted) {
      return;
    }
    if (running) {
      again = true;
      return;
    }
    running = true;
    lastRound = performance.now();
    try {
      await (listeners.size > 0 ? advance() : advanceIdle());
    } catch (error) {
      log.error("event round failed", { error: describeError(error) });
    } finally {
      running = false;
    }
    if (again) {
      again = false;
      kick();
    }
  };

  /** The gap between rounds now: short while streams listen, long without. */
  function gapMs(): number {
    return listeners.size === 0 ? IDLE_ROUND_GAP_MS : roundGapMs(listeners.size);
  }

  /** Runs a round in `ms`, or sooner if one is already due sooner (an idle wait gives way to a stream's). */
  function later(ms: number) {
    const due = performance.now() + ms;
    if (stopped || (delayed && delayedDue <= due)) {
      return;
    }
    clearTimeout(delayed);
    delayedDue = due;
    delayed = setTimeout(() => {
      delayed = undefined;
      void round();
    }, ms);
  }

  function kick() {
    if (stopped) {
      return;
    }
    const wait = lastRound + gapMs() - performance.now();
    if (wait <= 0) {
      clearTimeout(delayed);
      delayed = undefined;
      void round();
    } else {
      later(wait);
    }
  }

  const subscription = pg
    .listen(
      EVENTS_CHANNEL,
      () => kick(),
      () => kick(),
    )
    .catch((error: unknown) => {
      log.error("LISTEN labnet_events failed", { error: String(error) });
      return undefined;
    });

  // The start: every id up to the head is settled once the transactions open at that moment
  // have ended (any of them may hold a lower id than the head).
  const started = (async () => {
    await subscription;
    const first = await readEventsHead(db);
    const bound = first.lastId === 0 ? undefined : await takeTransactionBound(db);
    while (bound !== undefined && !stopped && !(await readEventsHead(db, bound)).sinceSettled) {
      await new Promise((resolve) => setTimeout(resolve, GAP_CHECK_MS));
    }
    horizon = first.lastId;
    isStarted = true;
  })();
  started.catch((error: unknown) => log.error("event hub failed to start", { error: describeError(error) }));
  const poll = setInterval(kick, options.pollMs ?? 1_000);

  return {
    ready: () => started,
    async settle(timeoutMs = 5_000) {
      await started;
      const target = await lastEventId(db);
      const deadline = Date.now() + timeoutMs;
      while (horizon < target && !stopped && Date.now() < deadline) {
        // Not kick(): without streams rounds wait IDLE_ROUND_GAP_MS, and this caller waits now.
        const ran = !running;
        await round();
        if (horizon >= target) {
          break;
        }
        // After a round that could not adopt the head yet (transactions still open), the
        // usual gap check; after finding one under way, soon.
        await new Promise((resolve) => setTimeout(resolve, ran ? GAP_CHECK_MS : 5));
      }
    },
    horizon: () => horizon,
    subscribe(listener) {
      listeners.add(listener);
      // From an idle horizon to a live one: the stream's first round need not wait.
      kick();
      return () => {
        listeners.delete(listener);
      };
    },
    async stop() {
      stopped = true;
      clearInterval(poll);
      if (delayed) {
        clearTimeout(delayed);
      }
      for (const listener of [...listeners]) {
        listener.close();
      }
      listeners.clear();
      await started.catch(() => undefined);
      const listening = await subscription;
      await listening?.unlisten();
    },
  };
}

/** A failed query's message with its cause (drizzle wraps the driver's error). */
function describeError(error: unknown): string {
  const cause = error instanceof Error && error.cause !== undefined ? `: ${String(error.cause)}` : "";
  return `${String(error)}${cause}`;
}
