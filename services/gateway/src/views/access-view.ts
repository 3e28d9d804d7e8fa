import type { components } from "@labnet/api";
import type { AccountRow, AccountUsage, AuditRow, TokenWithLab } from "@labnet/db";
import { effectiveQuotas, type Quotas } from "../access/quotas";

type Token = components["schemas"]["Token"];
type CreatedToken = components["schemas"]["CreatedToken"];
type Account = components["schemas"]["Account"];
type AuditEntry = components["schemas"]["AuditEntry"];

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A token as anyone sees it: never its secret, nor its hash. */
export function tokenView(row: TokenWithLab): Token {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    account: row.accountId,
    instance: row.instanceId,
    lab: row.labId,
    createdAt: row.createdAt.toISOString(),
    expiresAt: iso(row.expiresAt),
    revokedAt: iso(row.revokedAt),
    lastUsedAt: iso(row.lastUsedAt),
  };
}

/** The answer to its creation: the one time the secret is shown. */
export function createdTokenView(row: TokenWithLab, secret: string): CreatedToken {
  return { ...tokenView(row), secret };
}

export function accountView(row: AccountRow, usage: AccountUsage, defaults: Quotas): Account {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    quotas: effectiveQuotas(row.quotas, defaults),
    usage,
    createdAt: row.createdAt.toISOString(),
  };
}

export function auditEntryView(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.at.toISOString(),
    requestId: row.requestId,
    token: row.tokenId,
    tokenName: row.tokenName,
    account: row.accountId,
    role: row.role,
    operationId: row.operationId,
    method: row.method,
    path: row.path,
    target: row.targetType && row.targetId ? { type: row.targetType, id: row.targetId } : null,
    lab: row.labId,
    instance: row.instanceId,
    outcome: row.outcome,
    status: row.status,
    problem: row.problem,
  };
}
