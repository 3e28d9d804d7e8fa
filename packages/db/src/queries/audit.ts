import { and, asc, eq, gt, or, type SQL, sql } from "drizzle-orm";
import { auditLog } from "../schema";
import type { Db } from "../tx";
import { anyOf, clientOf } from "./prepared";

export type AuditRow = typeof auditLog.$inferSelect;
export type NewAuditEntry = typeof auditLog.$inferInsert;

/**
 * Records a request's entry once: a request that runs several transactions writes it in the
 * first (the others find it there).
 */
export async function recordAudit(db: Db, entry: NewAuditEntry): Promise<void> {
  await db.insert(auditLog).values(entry).onConflictDoNothing({ target: auditLog.requestId });
}

/**
 * A mutating request's transaction begins here, in one statement (each round trip costs the
 * accept path): its entry is recorded once (see {@link recordAudit}), and the transaction is
 * told the request id, which the events its triggers write carry (migration 0014). Every
 * mutation runs it, so it is a statement postgres.js prepares once per connection.
 */
export async function openAudit(db: Db, entry: NewAuditEntry): Promise<void> {
  await clientOf(db)`
    WITH entry AS (
      INSERT INTO audit_log (request_id, token_id, token_name, account_id, role, operation_id, method,
        path, target_type, target_id, lab_id, instance_id, outcome)
      VALUES (${entry.requestId}, ${entry.tokenId ?? null}, ${entry.tokenName ?? null},
        ${entry.accountId ?? null}, ${entry.role}, ${entry.operationId}, ${entry.method}, ${entry.path},
        ${entry.targetType ?? null}, ${entry.targetId ?? null}, ${entry.labId ?? null},
        ${entry.instanceId ?? null}, ${entry.outcome})
      ON CONFLICT (request_id) DO NOTHING)
    SELECT set_config('labnet.request_id', ${entry.requestId}, true)`;
}

/** The answer a request got, for {@link settleAudits}. */
export interface AuditAnswer {
  requestId: string;
  status: number;
  problem: string | null;
}

/** The statuses (and problems) requests were answered with, once answered: one statement for all. */
export async function settleAudits(db: Db, answers: readonly AuditAnswer[]): Promise<void> {
  if (answers.length === 0) {
    return;
  }
  await db.execute(sql`
    UPDATE ${auditLog} SET status = v.status, problem = v.problem
    FROM jsonb_to_recordset(${JSON.stringify(answers)}::jsonb) AS v("requestId" text, status int, problem text)
    WHERE ${auditLog.requestId} = v."requestId"`);
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
    .where(anyOf(auditLog.requestId, [...requestIds]))
    .orderBy(asc(auditLog.id));
}
