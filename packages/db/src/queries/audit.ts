import { and, asc, eq, gt, inArray, or, type SQL, sql } from "drizzle-orm";
import { auditLog } from "../schema";
import type { Db } from "../tx";

export type AuditRow = typeof auditLog.$inferSelect;
export type NewAuditEntry = typeof auditLog.$inferInsert;

/**
 * Records a request's entry once: a request that runs several transactions writes it in the
 * first (the others find it there).
 */
export async function recordAudit(db: Db, entry: NewAuditEntry): Promise<void> {
  await db.insert(auditLog).values(entry).onConflictDoNothing({ target: auditLog.requestId });
}

/** The status (and problem) a request was answered with, once answered. */
export async function settleAudit(
  db: Db,
  requestId: string,
  answer: { status: number; problem?: string | null },
): Promise<void> {
  await db
    .update(auditLog)
    .set({ status: answer.status, problem: answer.problem ?? null })
    .where(eq(auditLog.requestId, requestId));
}

export interface AuditFilters {
  after?: number;
  limit: number;
  labId?: string;
  accountId?: string;
  /** An instructor's view: their account's requests and those about their labs. */
  ofAccount?: { accountId: string; labIds: SQL };
}

export async function listAudit(db: Db, filters: AuditFilters): Promise<AuditRow[]> {
  const { ofAccount } = filters;
  return db
    .select()
    .from(auditLog)
    .where(
      and(
        filters.after !== undefined ? gt(auditLog.id, filters.after) : undefined,
        filters.labId ? eq(auditLog.labId, filters.labId) : undefined,
        filters.accountId ? eq(auditLog.accountId, filters.accountId) : undefined,
        ofAccount
          ? or(eq(auditLog.accountId, ofAccount.accountId), sql`${auditLog.labId} in (${ofAccount.labIds})`)
          : undefined,
      ),
    )
    .orderBy(asc(auditLog.id))
    .limit(filters.limit);
}

/** The entries of these requests (a timeline's "who"). */
export async function auditOfRequests(db: Db, requestIds: readonly string[]): Promise<AuditRow[]> {
  if (requestIds.length === 0) {
    return [];
  }
  return db
    .select()
    .from(auditLog)
    .where(inArray(auditLog.requestId, [...requestIds]))
    .orderBy(asc(auditLog.id));
}
