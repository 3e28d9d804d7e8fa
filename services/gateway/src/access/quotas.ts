import { DomainError } from "@labnet/commands";
import { type AccountQuotas, type AccountUsage, accountUsage, instanceUsage, type Tx } from "@labnet/db";
import type { TemplateStudents } from "@labnet/labs";
import { sql } from "drizzle-orm";

export type Quotas = Required<AccountQuotas>;

const QUOTA_KEYS = ["labs", "instances", "machines", "nodes", "ports"] as const;

/** An instructor's account holds at most this much unless an admin set its quotas (LABNET_QUOTA_*). */
export const DEFAULT_QUOTAS: Quotas = {
  labs: 20,
  instances: 500,
  machines: 1_000,
  nodes: 5_000,
  ports: 5_000,
};

/** The limits a request's changes must stay within. */
export interface QuotaCheck {
  accountId: string;
  quotas: Quotas;
  /** A student's: their instance and its limits. */
  student?: { instanceId: string; limits: TemplateStudents["limits"] };
  /** What was held when the transaction took the lock (set by lockQuotas). */
  before?: { account: AccountUsage; instance?: Awaited<ReturnType<typeof instanceUsage>> };
}

export function effectiveQuotas(own: AccountQuotas | undefined, defaults: Quotas = DEFAULT_QUOTAS): Quotas {
  return { ...defaults, ...own };
}

/**
 * Serializes the account's changes (a transaction-scoped advisory lock) and notes what it holds,
 * so two concurrent creations cannot both slip under a limit.
 */
export async function lockQuotas(tx: Tx, check: QuotaCheck): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`labnet.quota:${check.accountId}`}))`);
  check.before = {
    account: await accountUsage(tx, check.accountId),
    ...(check.student ? { instance: await instanceUsage(tx, check.student.instanceId) } : {}),
  };
}

/**
 * Refuses (and so rolls back) a change that grew past a limit. Only growth counts: a limit
 * lowered below what is held never stops a removal.
 */
export async function checkQuotas(tx: Tx, check: QuotaCheck): Promise<void> {
  const after = await accountUsage(tx, check.accountId);
  for (const key of QUOTA_KEYS) {
    if (after[key] > check.quotas[key] && after[key] > (check.before?.account[key] ?? 0)) {
      throw new DomainError(
        "QUOTA_EXCEEDED",
        `the account may hold at most ${check.quotas[key]} ${key} (it would hold ${after[key]})`,
      );
    }
  }
  if (check.student) {
    const held = await instanceUsage(tx, check.student.instanceId);
    for (const key of ["networks", "nodes", "ports"] as const) {
      const limit = check.student.limits[key];
      if (held[key] > limit && held[key] > (check.before?.instance?.[key] ?? 0)) {
        throw new DomainError(
          "QUOTA_EXCEEDED",
          `a student may have at most ${limit} ${key} in their lab instance (this would make ${held[key]})`,
        );
      }
    }
  }
}
