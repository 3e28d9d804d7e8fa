import { and, eq, inArray, sql } from "drizzle-orm";
import { newId } from "../ids";
import { DatabaseLock } from "../locks";
import type { OperationKind, OperationTargetType, StoredProblem } from "../schema";
import { operations } from "../schema";
import { noteOperationWritten } from "../transaction-hooks";
import type { Db } from "../tx";
import { anyOf, clientOf, preparedOn } from "./prepared";

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
  return insertedOperation(id, input, row);
}

/** The row of an operation just inserted, from what its insert returned. */
function insertedOperation(
  id: string,
  input: NewOperation,
  row: { state: OperationRow["state"]; attempts: number; created_at: string; updated_at: string },
): OperationRow {
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

/**
 * Marks node `nodeId` for removal (state `deleting`) and writes its `node.remove` operation,
 * in one statement, unless the node is gone or already being deleted (then nothing is written
 * and undefined is returned). A removal sends it with the node's lock, before reading what the
 * lock returned: the caller rolls back what the node's checks refuse.
 */
export async function markNodeForRemoval(db: Db, nodeId: string): Promise<OperationRow | undefined> {
  const id = newId("operation");
  const [row] = await clientOf(db)<
    {
      host_id: string;
      state: OperationRow["state"];
      attempts: number;
      created_at: string;
      updated_at: string;
    }[]
  >`
    WITH target AS (
      SELECT id, host_id FROM nodes WHERE id = ${nodeId} AND state <> 'deleting'
    ), marked AS (
      UPDATE nodes SET state = 'deleting', updated_at = now() FROM target WHERE nodes.id = target.id
    )
    INSERT INTO operations (id, kind, host_id, target_type, target_id)
    SELECT ${id}, 'node.remove', host_id, 'node', id FROM target
    RETURNING host_id, state, attempts, created_at, updated_at`;
  if (!row) {
    return undefined;
  }
  noteOperationWritten(id);
  return insertedOperation(
    id,
    { kind: "node.remove", hostId: row.host_id, targetType: "node", targetId: nodeId },
    row,
  );
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
    .where(anyOf(operations.targetId, targetIds))
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
    .where(and(anyOf(operations.id, [...ids]), inArray(operations.state, ["queued", "running"])))
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
    .where(and(anyOf(operations.id, [...ids]), inArray(operations.state, ["queued", "running"])));
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
 * Claims the open operations to put on their hosts' queues, oldest first, and marks them
 * dispatched, in one statement (one round trip: it runs at every creation's commit): those
 * never dispatched, and those dispatched longer ago than `redispatchAfterMs` and still open
 * (Redis may have lost them; re-adding a host's converge request is a no-op while it waits).
 * Under a transaction-level advisory lock, so of several gateways one claims at a time; none
 * when another holds it.
 */
export async function claimDispatchable(
  db: Db,
  options: { redispatchAfterMs: number; limit: number },
): Promise<DispatchableOperation[]> {
  const rows = await clientOf(db)<
    { id: string; host_id: string; queue_host_id: string; created_at: string }[]
  >`
    WITH lock AS (SELECT pg_try_advisory_xact_lock(${DatabaseLock.OutboxDispatch}) AS locked),
    due AS (
      SELECT o.id FROM operations o
      WHERE (SELECT locked FROM lock) AND o.state IN ('queued', 'running')
        AND (o.dispatched_at IS NULL
          OR o.dispatched_at < now() - make_interval(secs => ${options.redispatchAfterMs / 1000}::float8))
      ORDER BY o.created_at
      LIMIT ${options.limit}::int)
    UPDATE operations o SET dispatched_at = now()
    FROM due, hosts h
    WHERE o.id = due.id AND h.id = o.host_id
    RETURNING o.id, o.host_id, coalesce(h.parent_host_id, h.id) AS queue_host_id, o.created_at`;
  return rows
    .sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0))
    .map((r) => ({ id: r.id, hostId: r.host_id, queueHostId: r.queue_host_id }));
}

/** An operation due for dispatch: its machine, and the lab host whose executor converges it. */
export interface DispatchableOperation {
  id: string;
  hostId: string;
  queueHostId: string;
}

/** Puts operations back in the outbox (their dispatch did not reach the queue). */
export async function unmarkDispatched(db: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) {
    return;
  }
  await db.update(operations).set({ dispatchedAt: null }).where(anyOf(operations.id, ids));
}
