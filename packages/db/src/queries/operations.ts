import { and, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { newId } from "../ids";
import type { OperationKind, OperationTargetType, StoredProblem } from "../schema";
import { hosts, operations } from "../schema";
import { noteOperationWritten } from "../transaction-hooks";
import type { Db } from "../tx";
import { clientOf, preparedOn } from "./prepared";

export type OperationRow = typeof operations.$inferSelect;

export interface NewOperation {
  kind: OperationKind;
  hostId: string;
  targetType: OperationTargetType;
  targetId: string;
}

/**
 * Writes an outbox row; call it in the transaction that records the intent. On every
 * creation's hot path, so a statement postgres.js prepares once per connection rather than
 * one drizzle builds each time (about 0.5 ms of CPU a call).
 */
export async function insertOperation(db: Db, input: NewOperation): Promise<OperationRow> {
  const id = newId("operation");
  const [row] = await clientOf(db)<
    { state: OperationRow["state"]; attempts: number; created_at: string; updated_at: string }[]
  >`
    INSERT INTO operations (id, kind, host_id, target_type, target_id)
    VALUES (${id}, ${input.kind}, ${input.hostId}, ${input.targetType}, ${input.targetId})
    RETURNING state, attempts, created_at, updated_at`;
  if (!row) {
    throw new Error("inserting an operation returned no row");
  }
  noteOperationWritten(id);
  return {
    id,
    ...input,
    state: row.state,
    attempts: row.attempts,
    error: null,
    dispatchedAt: null,
    startedAt: null,
    finishedAt: null,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function selectOperationById(db: Db) {
  return db
    .select()
    .from(operations)
    .where(eq(operations.id, sql.placeholder("id")));
}

export async function getOperation(db: Db, id: string): Promise<OperationRow | undefined> {
  // Every waited call and operation view reads it: prepared on the pool, built once.
  const prepared = preparedOn(db, "getOperation", (pool) =>
    selectOperationById(pool).prepare("get_operation"),
  );
  const [row] = prepared ? await prepared.execute({ id }) : await selectOperationById(db).execute({ id });
  return row;
}

/** The newest operation for a target (what a resource view links to). */
export async function latestOperationFor(db: Db, targetIds: string[]): Promise<Map<string, OperationRow>> {
  const result = new Map<string, OperationRow>();
  if (targetIds.length === 0) {
    return result;
  }
  const rows = await db
    .selectDistinctOn([operations.targetId])
    .from(operations)
    .where(inArray(operations.targetId, targetIds))
    .orderBy(operations.targetId, sql`${operations.createdAt} desc`);
  for (const row of rows) {
    result.set(row.targetId, row);
  }
  return result;
}

/**
 * Marks operations running and counts an attempt for each. Returns the rows still open
 * (a finished one is a replay: the caller leaves it alone).
 */
export async function startOperations(db: Db, ids: readonly string[]): Promise<OperationRow[]> {
  if (ids.length === 0) {
    return [];
  }
  return db
    .update(operations)
    .set({
      state: "running",
      attempts: sql`${operations.attempts} + 1`,
      startedAt: sql`coalesce(${operations.startedAt}, now())`,
      updatedAt: sql`now()`,
    })
    .where(and(inArray(operations.id, [...ids]), inArray(operations.state, ["queued", "running"])))
    .returning();
}

/** Marks open operations succeeded. */
export async function succeedOperations(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) {
    return;
  }
  await db
    .update(operations)
    .set({ state: "succeeded", error: null, finishedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(inArray(operations.id, [...ids]), inArray(operations.state, ["queued", "running"])));
}

/** Marks an open operation failed with its problem. */
export async function failOperation(db: Db, id: string, problem: StoredProblem): Promise<void> {
  await db
    .update(operations)
    .set({ state: "failed", error: problem, finishedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(operations.id, id), inArray(operations.state, ["queued", "running"])));
}

/** Records a failed attempt that will be retried (state stays open). */
export async function noteOperationError(db: Db, id: string, problem: StoredProblem): Promise<void> {
  await db.update(operations).set({ error: problem, updatedAt: sql`now()` }).where(eq(operations.id, id));
}

/**
 * Open operations to put on their host's queue: never dispatched, or dispatched longer ago
 * than `redispatchAfterMs` and still open (Redis may have lost them; re-adding with the
 * same job id is a no-op while the job still exists).
 */
export async function listDispatchable(
  db: Db,
  options: { redispatchAfterMs: number; limit: number },
): Promise<DispatchableOperation[]> {
  return db
    .select({ id: operations.id, hostId: operations.hostId, queueHostId: queueHostOf })
    .from(operations)
    .innerJoin(hosts, eq(hosts.id, operations.hostId))
    .where(
      and(
        inArray(operations.state, ["queued", "running"]),
        or(
          isNull(operations.dispatchedAt),
          lt(
            operations.dispatchedAt,
            sql`now() - make_interval(secs => ${options.redispatchAfterMs / 1000})`,
          ),
        ),
      ),
    )
    .orderBy(operations.createdAt)
    .limit(options.limit);
}

/** An operation due for dispatch: its machine, and the lab host whose executor converges it. */
export interface DispatchableOperation {
  id: string;
  hostId: string;
  queueHostId: string;
}

/** A virtual machine's work goes to its lab host's queue. */
const queueHostOf = sql<string>`coalesce(${hosts.parentHostId}, ${hosts.id})`;

export async function markDispatched(db: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) {
    return;
  }
  await db.update(operations).set({ dispatchedAt: sql`now()` }).where(inArray(operations.id, ids));
}

/** Puts operations back in the outbox (their dispatch did not reach the queue). */
export async function unmarkDispatched(db: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) {
    return;
  }
  await db.update(operations).set({ dispatchedAt: null }).where(inArray(operations.id, ids));
}
