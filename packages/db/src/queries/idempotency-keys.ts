import { and, eq, lte, sql } from "drizzle-orm";
import { idempotencyKeys, operations } from "../schema";
import type { Db } from "../tx";
import type { OperationRow } from "./operations";
import { anyOf } from "./prepared";

/** One key of one token on one operation. */
export interface IdempotencyKeyRef {
  tokenId: string;
  /** `POST /v1/nodes` */
  operation: string;
  key: string;
}

export type IdempotencyKeyRow = typeof idempotencyKeys.$inferSelect;

/** A key as a retry finds it: the row plus what the database clock says of its lease. */
export interface IdempotencyKeyState extends IdempotencyKeyRow {
  /** The attempt holding it may still be running. */
  leased: boolean;
  /** Milliseconds until the lease runs out (0 when it has). */
  leaseLeftMs: number;
}

function whereKey(ref: IdempotencyKeyRef) {
  return and(
    eq(idempotencyKeys.tokenId, ref.tokenId),
    eq(idempotencyKeys.operation, ref.operation),
    eq(idempotencyKeys.key, ref.key),
  );
}

const msFromNow = (ms: number) => sql`now() + ${ms} * interval '1 millisecond'`;

/**
 * Claims a key for an attempt (`leaseId`): inserts it, or takes over a row that has expired
 * (the key is then used afresh). False when someone holds or has used it: read it with
 * {@link getIdempotencyKey}.
 */
export async function claimIdempotencyKey(
  db: Db,
  ref: IdempotencyKeyRef & { requestHash: string; leaseId: string; leaseMs: number; ttlMs: number },
): Promise<boolean> {
  const fresh = {
    requestHash: ref.requestHash,
    leaseId: ref.leaseId,
    leaseExpiresAt: msFromNow(ref.leaseMs),
    expiresAt: msFromNow(ref.ttlMs),
  };
  const claimed = await db
    .insert(idempotencyKeys)
    .values({ tokenId: ref.tokenId, operation: ref.operation, key: ref.key, ...fresh })
    .onConflictDoUpdate({
      target: [idempotencyKeys.tokenId, idempotencyKeys.operation, idempotencyKeys.key],
      set: {
        ...fresh,
        committedAt: null,
        operationIds: sql`'{}'::text[]`,
        status: null,
        headers: null,
        body: null,
        createdAt: sql`now()`,
      },
      setWhere: lte(idempotencyKeys.expiresAt, sql`now()`),
    })
    .returning({ leaseId: idempotencyKeys.leaseId });
  return claimed.length > 0;
}

/** The key as it stands, with its lease judged by the database's clock. */
export async function getIdempotencyKey(
  db: Db,
  ref: IdempotencyKeyRef,
): Promise<IdempotencyKeyState | undefined> {
  const [row] = await db
    .select({
      row: idempotencyKeys,
      leaseLeftMs: sql<string>`greatest(0, extract(epoch from ${idempotencyKeys.leaseExpiresAt} - now()) * 1000)`,
    })
    .from(idempotencyKeys)
    .where(whereKey(ref));
  if (!row) {
    return undefined;
  }
  const leaseLeftMs = Math.ceil(Number(row.leaseLeftMs));
  return { ...row.row, leased: leaseLeftMs > 0, leaseLeftMs };
}

/**
 * A retry takes over a key whose attempt ran out of lease without committing or answering
 * (it crashed, or lost its database). False when it is no longer so.
 */
export async function takeOverIdempotencyKey(
  db: Db,
  ref: IdempotencyKeyRef & { leaseId: string; leaseMs: number },
): Promise<boolean> {
  const taken = await db
    .update(idempotencyKeys)
    .set({ leaseId: ref.leaseId, leaseExpiresAt: msFromNow(ref.leaseMs) })
    .where(
      and(
        whereKey(ref),
        sql`${idempotencyKeys.status} IS NULL AND ${idempotencyKeys.committedAt} IS NULL`,
        lte(idempotencyKeys.leaseExpiresAt, sql`now()`),
      ),
    )
    .returning({ leaseId: idempotencyKeys.leaseId });
  return taken.length > 0;
}

/** Extends the lease of a running attempt. False when the attempt no longer holds the key. */
export async function renewIdempotencyLease(
  db: Db,
  ref: IdempotencyKeyRef & { leaseId: string; leaseMs: number },
): Promise<boolean> {
  const renewed = await db
    .update(idempotencyKeys)
    .set({ leaseExpiresAt: msFromNow(ref.leaseMs) })
    .where(and(whereKey(ref), eq(idempotencyKeys.leaseId, ref.leaseId)))
    .returning({ leaseId: idempotencyKeys.leaseId });
  return renewed.length > 0;
}

/**
 * In the transaction that carries the request out, before it commits: records that it
 * committed and the operations it wrote. False when the attempt lost its lease to a retry:
 * the caller must roll back, so a request never commits twice.
 */
export async function markIdempotencyKeyCommitted(
  db: Db,
  ref: IdempotencyKeyRef & { leaseId: string; operationIds: readonly string[] },
): Promise<boolean> {
  const marked = await db
    .update(idempotencyKeys)
    .set({
      committedAt: sql`coalesce(${idempotencyKeys.committedAt}, now())`,
      // Operation ids are `op_` + base32: no commas.
      operationIds: sql`${idempotencyKeys.operationIds} || string_to_array(${ref.operationIds.join(",")}, ',')`,
    })
    .where(and(whereKey(ref), eq(idempotencyKeys.leaseId, ref.leaseId)))
    .returning({ leaseId: idempotencyKeys.leaseId });
  return marked.length > 0;
}

/**
 * Stores the answer replayed to retries. With `leaseId`, only while that attempt holds the
 * key; without, only when none is stored yet (an answer rebuilt by a retry).
 */
export async function storeIdempotentAnswer(
  db: Db,
  ref: IdempotencyKeyRef & {
    leaseId?: string;
    status: number;
    headers: Record<string, string>;
    body: string;
  },
): Promise<void> {
  await db
    .update(idempotencyKeys)
    .set({ status: ref.status, headers: ref.headers, body: ref.body })
    .where(
      and(
        whereKey(ref),
        ref.leaseId === undefined
          ? sql`${idempotencyKeys.status} IS NULL`
          : eq(idempotencyKeys.leaseId, ref.leaseId),
      ),
    );
}

/**
 * Gives up an attempt's claim. Not committed: the key is forgotten, so a retry runs for real.
 * Committed: it is kept, with its lease ended, so a retry gets the committed answer at once.
 */
export async function releaseIdempotencyKey(
  db: Db,
  ref: IdempotencyKeyRef & { leaseId: string },
): Promise<void> {
  const mine = and(
    whereKey(ref),
    eq(idempotencyKeys.leaseId, ref.leaseId),
    sql`${idempotencyKeys.status} IS NULL`,
  );
  await db.delete(idempotencyKeys).where(and(mine, sql`${idempotencyKeys.committedAt} IS NULL`));
  await db.update(idempotencyKeys).set({ leaseExpiresAt: sql`now()` }).where(mine);
}

/** The operations a committed attempt wrote, in the order it wrote them. */
export async function operationsOfIdempotencyKey(db: Db, ids: readonly string[]): Promise<OperationRow[]> {
  if (ids.length === 0) {
    return [];
  }
  const rows = await db
    .select()
    .from(operations)
    .where(anyOf(operations.id, [...ids]));
  return ids.flatMap((id) => rows.filter((row) => row.id === id));
}

/** Deletes up to `limit` expired keys; returns how many went. */
export async function pruneIdempotencyKeys(db: Db, limit: number): Promise<number> {
  const removed = await db.execute<{ n: number }>(sql`
    WITH gone AS (
      DELETE FROM ${idempotencyKeys} WHERE ctid IN (
        SELECT ctid FROM ${idempotencyKeys} WHERE ${idempotencyKeys.expiresAt} <= now() LIMIT ${limit})
      RETURNING 1)
    SELECT count(*)::int AS n FROM gone`);
  return removed[0]?.n ?? 0;
}
