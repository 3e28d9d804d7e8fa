import { type AnyColumn, and, asc, eq, gt, inArray, like, lte, or, type SQL, sql } from "drizzle-orm";
import type { Database } from "../client";
import { events } from "../schema";
import type { Db } from "../tx";

export type EventRow = typeof events.$inferSelect;

/** Channel a transaction that wrote events NOTIFYs at commit, with an empty payload (migration 0018). */
export const EVENTS_CHANNEL = "labnet_events";

/**
 * Which events a reader wants: within a dimension any value matches, across dimensions all
 * must. A type ending in `.*` matches its prefix (`node.*`).
 */
export interface EventFilter {
  labIds?: readonly string[];
  instanceIds?: readonly string[];
  machineIds?: readonly string[];
  resourceTypes?: readonly string[];
  types?: readonly string[];
  /**
   * What the reader's token reaches (undefined: everything, an admin's): an instructor's, the
   * events of what their account owns; a student's, their instance's.
   */
  reach?: { ownerId: string } | { instanceId: string };
}

/** Whether `row` passes `filter` (the in-memory twin of {@link eventFilterSql}). */
export function matchesEventFilter(filter: EventFilter, row: EventRow): boolean {
  const within = (values: readonly string[] | undefined, value: string | null) =>
    values === undefined || values.length === 0 || (value !== null && values.includes(value));
  return (
    within(filter.labIds, row.labId) &&
    within(filter.instanceIds, row.instanceId) &&
    within(filter.machineIds, row.machineId) &&
    within(filter.resourceTypes, row.resourceType) &&
    (filter.reach === undefined ||
      ("ownerId" in filter.reach
        ? row.ownerId === filter.reach.ownerId
        : row.instanceId === filter.reach.instanceId)) &&
    (filter.types === undefined ||
      filter.types.length === 0 ||
      filter.types.some((t) => (t.endsWith(".*") ? row.type.startsWith(t.slice(0, -1)) : row.type === t)))
  );
}

function eventFilterSql(filter: EventFilter): SQL[] {
  const conditions: SQL[] = [];
  const some = (values: readonly string[] | undefined, column: AnyColumn) => {
    if (values && values.length > 0) {
      conditions.push(inArray(column, [...values]));
    }
  };
  some(filter.labIds, events.labId);
  some(filter.instanceIds, events.instanceId);
  some(filter.machineIds, events.machineId);
  some(filter.resourceTypes, events.resourceType);
  if (filter.reach) {
    conditions.push(
      "ownerId" in filter.reach
        ? eq(events.ownerId, filter.reach.ownerId)
        : eq(events.instanceId, filter.reach.instanceId),
    );
  }
  if (filter.types && filter.types.length > 0) {
    const alternatives = filter.types.map((t) =>
      t.endsWith(".*")
        ? like(events.type, `${t.slice(0, -1).replace(/[\\%_]/g, "\\$&")}%`)
        : eq(events.type, t),
    );
    const any = or(...alternatives);
    if (any) {
      conditions.push(any);
    }
  }
  return conditions;
}

/** Events after id `after` (up to `upTo` when given) that pass `filter`, oldest first. */
export async function listEvents(
  db: Db,
  input: { after: number; upTo?: number; filter?: EventFilter; limit: number },
): Promise<EventRow[]> {
  return db
    .select()
    .from(events)
    .where(
      and(
        gt(events.id, input.after),
        input.upTo === undefined ? undefined : lte(events.id, input.upTo),
        ...eventFilterSql(input.filter ?? {}),
      ),
    )
    .orderBy(asc(events.id))
    .limit(input.limit);
}

/**
 * A transaction id above every one assigned so far (`xid8` text): the point to wait for when
 * an event id is missing. Ids are taken when a transaction writes its event but become visible
 * when it commits, so a higher id can be visible before a lower one. The lower id's writer
 * already held a transaction id when it took the event id (events are written by triggers,
 * after the row change that gave it one), so it is below a bound taken after the gap was
 * seen; once every transaction below the bound has ended, the id is visible or never will be.
 *
 * Why not the reading snapshot's in-progress list: a snapshot lists only transactions below
 * its xmax (the latest completed id + 1), so a writer whose id is above every completed one
 * is running yet absent from the list (see test/integration/events.test.ts).
 *
 * Taking the bound assigns this call's own (empty) transaction an id; it commits without
 * waiting for the WAL flush, as it wrote nothing. One statement, its own transaction: one
 * round trip rather than three with BEGIN and COMMIT.
 */
export async function takeTransactionBound(db: Database): Promise<string> {
  const [row] = await db.execute<{ xid: string }>(sql`
    SELECT set_config('synchronous_commit', 'off', true), pg_current_xact_id()::text AS xid`);
  if (!row) {
    throw new Error("pg_current_xact_id() answered no row");
  }
  return row.xid;
}

/** What {@link readCommittedEvents} saw. */
export interface CommittedEvents {
  rows: EventRow[];
  /** Whether every transaction below `since` had ended when the rows were read (true without one). */
  sinceSettled: boolean;
}

/**
 * Rows after `after` as one snapshot sees them, and whether every transaction below the
 * bound `since` (from {@link takeTransactionBound}) had ended in that same snapshot: a reader
 * that must never skip an id delivers up to the first missing one, and treats that gap as
 * permanent (a rollback) only once that holds for a bound taken after it saw the gap.
 */
export async function readCommittedEvents(
  db: Database,
  input: { after: number; limit: number; since?: string },
): Promise<CommittedEvents> {
  return db.transaction(
    async (tx) => {
      const [head] = await tx.execute<{ settled: boolean }>(
        sql`SELECT ${settledSince(input.since)} AS settled`,
      );
      const rows = await listEvents(tx, { after: input.after, limit: input.limit });
      return { rows, sinceSettled: head?.settled ?? false };
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
}

/**
 * The highest visible event id, and whether every transaction below the bound `since` has
 * ended: once that holds for a bound taken after an earlier head was read, no event up to
 * that head's id can appear any more (see {@link takeTransactionBound}).
 */
export async function readEventsHead(
  db: Database,
  since?: string,
): Promise<{ lastId: number; sinceSettled: boolean }> {
  const [head] = await db.execute<{ settled: boolean; last_id: string | null }>(sql`
    SELECT ${settledSince(since)} AS settled, (SELECT max(${events.id}) FROM ${events}) AS last_id`);
  return { lastId: head?.last_id ? Number(head.last_id) : 0, sinceSettled: head?.settled ?? false };
}

/** Every transaction below `bound` has ended (the oldest one still running is at or above it). */
function settledSince(bound: string | undefined): SQL {
  return bound === undefined ? sql`true` : sql`pg_snapshot_xmin(pg_current_snapshot()) > ${bound}::xid8`;
}

/** The highest event id, 0 without events. */
export async function lastEventId(db: Db): Promise<number> {
  const [row] = await db.select({ id: sql<string | null>`max(${events.id})` }).from(events);
  return row?.id ? Number(row.id) : 0;
}

/**
 * Removes events older than `maxAgeMs` and those beyond the newest `maxRows`, at most `batch`
 * rows per call (so the delete never holds many locks for long); returns how many went. Ids
 * and times grow together, so both limits become one cutoff id, found through the indexes.
 */
export async function pruneEvents(
  db: Db,
  input: { maxAgeMs: number; maxRows: number; batch: number },
): Promise<number> {
  const removed = await db.execute<{ id: string }>(sql`
    WITH cutoff AS (
      SELECT greatest(
        (SELECT max(id) FROM ${events}) - ${input.maxRows},
        (SELECT id FROM ${events} WHERE at < now() - make_interval(secs => ${input.maxAgeMs / 1000})
           ORDER BY at DESC LIMIT 1)) AS id)
    DELETE FROM ${events} WHERE ${events.id} IN (
      SELECT e.id FROM ${events} e, cutoff WHERE e.id <= cutoff.id ORDER BY e.id LIMIT ${input.batch})
    RETURNING ${events.id}`);
  return removed.length;
}
