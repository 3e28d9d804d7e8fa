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
}

/** One transaction's start, for its check (a request may run several transactions at once). */
export interface QuotaBaseline {
  /** What the account (and the student's instance) held when the transaction started. */
  before: { account: AccountUsage; instance?: Awaited<ReturnType<typeof instanceUsage>> };
  /** The account's lock is held already (`lockFirst`). */
  locked: boolean;
}

export function effectiveQuotas(own: AccountQuotas | undefined, defaults: Quotas = DEFAULT_QUOTAS): Quotas {
  return { ...defaults, ...own };
}

/**
 * Notes what the account holds as the transaction starts (for "only growth counts"), without
 * a lock: {@link checkQuotas} takes it at the end. `lockFirst` takes it now instead, for a
 * transaction whose snapshot is fixed at its start (repeatable read), which could not see what
 * the lock waited for.
 */
export async function quotaBaseline(
  tx: Tx,
  check: QuotaCheck,
  options: { lockFirst?: boolean } = {},
): Promise<QuotaBaseline> {
  if (options.lockFirst) {
    await lockAccount(tx, check);
  }
  const [account, instance] = await Promise.all([
    accountUsage(tx, check.accountId),
    check.student ? instanceUsage(tx, check.student.instanceId) : undefined,
  ]);
  return {
    before: { account, ...(instance ? { instance } : {}) },
    locked: options.lockFirst ?? false,
  };
}

/** The account's quota lock (transaction-scoped): the checks of its changes, one at a time. */
async function lockAccount(tx: Tx, check: QuotaCheck): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`labnet.quota:${check.accountId}`}))`);
}

/**
 * Refuses (and so rolls back) a change that grew past a limit. Only growth counts: a limit
 * lowered below what is held never stops a removal.
 */
export async function checkQuotas(tx: Tx, check: QuotaCheck, baseline: QuotaBaseline): Promise<void> {
  // Locked at the end, not for the whole transaction: the usage below is read by a statement
  // after the lock was granted, so (read committed) it sees every change of the account that
  // committed meanwhile, and the lock is held from here to the commit only, so transactions
  // of one account (a lab's instances, provisioned several at once) no longer queue whole.
  if (!baseline.locked) {
    await lockAccount(tx, check);
  }
  const after = await accountUsage(tx, check.accountId);
  for (const key of QUOTA_KEYS) {
    if (after[key] > check.quotas[key] && after[key] > baseline.before.account[key]) {
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
      if (held[key] > limit && held[key] > (baseline.before.instance?.[key] ?? 0)) {
        throw new DomainError(
          "QUOTA_EXCEEDED",
          `a student may have at most ${limit} ${key} in their lab instance (this would make ${held[key]})`,
        );
      }
    }
  }
}
