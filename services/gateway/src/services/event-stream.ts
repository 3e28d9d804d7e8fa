import type { components } from "@labnet/api";
import { type Database, type EventFilter, type EventRow, listEvents, matchesEventFilter } from "@labnet/db";
import type { Logger } from "@labnet/log";
import type { SSEStreamingApi } from "hono/streaming";
import type { EventHub } from "./event-hub";

type Event = components["schemas"]["Event"];

/** Limits of one event stream. */
export interface EventStreamLimits {
  /**
   * Live events one client may have waiting behind a write it has not taken yet. A client
   * that reads slower than events come is dropped when its queue passes this (the stream
   * ends): it reconnects with
   * `Last-Event-ID` and replays from the table, so nothing is lost and no client holds
   * memory without bound. Default 10,000 (a few MiB).
   */
  maxBufferedEvents: number;
  /** A comment line every so often, so proxies keep the connection; default 15 s. */
  heartbeatMs: number;
}

export const DEFAULT_EVENT_STREAM_LIMITS: EventStreamLimits = {
  maxBufferedEvents: 10_000,
  heartbeatMs: 15_000,
};

/** Rows a replay reads from the table at a time (written before the next page is read). */
const REPLAY_PAGE = 500;
/** Browsers reconnect after this long (the SSE `retry` field). */
const RETRY_MS = 1_000;

export function eventView(row: EventRow): Event {
  return {
    id: row.id,
    at: row.at.toISOString(),
    type: row.type,
    resourceType: row.resourceType as Event["resourceType"],
    resourceId: row.resourceId,
    labId: row.labId,
    instanceId: row.instanceId,
    machineId: row.machineId,
    requestId: row.requestId,
    data: row.data,
  };
}

/**
 * The SSE message of a row (`event`, `data`, `id`), built once however many streams send it:
 * the hub hands the same row objects to every listener.
 */
const messages = new WeakMap<EventRow, string>();
function sseMessage(row: EventRow): string {
  let text = messages.get(row);
  if (text === undefined) {
    // JSON.stringify never emits a raw newline, so the data is one `data:` line.
    text = `event: ${row.type}\ndata: ${JSON.stringify(eventView(row))}\nid: ${row.id}\n\n`;
    messages.set(row, text);
  }
  return text;
}

/**
 * Serves one `GET /v1/events` stream: replays the table after `after` (paged, each page
 * written before the next is read, so a replay holds one page), then switches to the hub's
 * live events with nothing missed or doubled: the switch happens in one synchronous step
 * once the replay has reached the horizon, and the hub delivers only what follows it.
 * Resolves when the client goes, is dropped, or the hub stops.
 */
export async function serveEventStream(input: {
  stream: SSEStreamingApi;
  hub: EventHub;
  db: Database;
  log: Logger;
  /** The last id the client has (Last-Event-ID); undefined: live events only. */
  after: number | undefined;
  filter: EventFilter;
  limits: EventStreamLimits;
}): Promise<void> {
  const { stream, hub, db, filter, limits } = input;
  await hub.ready();
  let cursor = input.after ?? hub.horizon();
  let live = false;
  let closed = false;
  const queue: EventRow[] = [];
  let wake: (() => void) | undefined;
  const close = () => {
    closed = true;
    queue.length = 0;
    wake?.();
  };

  const unsubscribe = hub.subscribe({
    deliver(rows) {
      if (!live || closed) {
        return;
      }
      for (const row of rows) {
        if (row.id > cursor && matchesEventFilter(filter, row)) {
          queue.push(row);
        }
      }
      cursor = Math.max(cursor, rows.at(-1)?.id ?? cursor);
      // Waiting behind a write the client has not taken yet: a client that keeps up takes each
      // batch whole (at most one hub round, bounded), one that does not fills its queue.
      if (writing && queue.length > limits.maxBufferedEvents) {
        // Too slow: drop it rather than buffer without bound. Its Last-Event-ID replays the rest.
        input.log.warn("event stream dropped: client too slow", {
          buffered: queue.length,
          limit: limits.maxBufferedEvents,
        });
        close();
        stream.abort();
        return;
      }
      wake?.();
    },
    close() {
      close();
      stream.abort();
    },
  });
  stream.onAbort(close);

  // Many rows per write: one chunk through the stream and the socket for a burst of events.
  let writing = false;
  const write = async (rows: readonly EventRow[]) => {
    writing = true;
    try {
      await stream.write(rows.map(sseMessage).join(""));
    } finally {
      writing = false;
    }
  };

  try {
    await stream.write(`retry: ${RETRY_MS}\n\n`);
    // Replay from the table up to the horizon, then go live in the same tick as the check.
    while (!closed) {
      const upTo = hub.horizon();
      if (cursor >= upTo) {
        live = true;
        break;
      }
      const page = await listEvents(db, { after: cursor, upTo, filter, limit: REPLAY_PAGE });
      if (page.length > 0 && !closed) {
        await write(page);
      }
      cursor = page.length < REPLAY_PAGE ? upTo : (page.at(-1)?.id ?? upTo);
    }
    while (!closed) {
      if (queue.length > 0) {
        await write(queue.splice(0, queue.length));
        continue;
      }
      const woken = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), limits.heartbeatMs);
        wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      wake = undefined;
      if (!woken && !closed) {
        await stream.write(": heartbeat\n\n");
      }
    }
  } finally {
    unsubscribe();
    close();
  }
}
