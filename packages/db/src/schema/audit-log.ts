import { bigserial, index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Every mutation the API was asked for: who (token, account, role), what (operation, method,
 * path), its target, the outcome and the request id. A request that changed something is
 * recorded in the same transaction as the change (outcome `committed`, its HTTP status set
 * once answered); one refused before any change is recorded on its own (`refused`/`failed`).
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    requestId: text("request_id").notNull().unique(),
    tokenId: text("token_id"),
    tokenName: text("token_name"),
    accountId: text("account_id"),
    role: text("role").notNull(),
    operationId: text("operation_id").notNull(),
    method: text("method").notNull(),
    path: text("path").notNull(),
    /** The resource named by the path, when there is one (`node`, `nod_...`). */
    targetType: text("target_type"),
    targetId: text("target_id"),
    /** The lab (and instance) the target belongs to, so instructors read their labs' audit. */
    labId: text("lab_id"),
    instanceId: text("instance_id"),
    outcome: text("outcome").$type<"committed" | "refused" | "failed">().notNull(),
    /** The HTTP status answered; null while a committed request's answer is not yet sent. */
    status: integer("status"),
    /** The problem code of a refused or failed request. */
    problem: text("problem"),
  },
  (t) => [
    index("audit_log_at_idx").on(t.at),
    index("audit_log_account_idx").on(t.accountId, t.id),
    index("audit_log_lab_idx").on(t.labId, t.id),
  ],
);
