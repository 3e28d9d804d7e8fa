import { AsyncLocalStorage } from "node:async_hooks";
import {
  type AuditAnswer,
  type Database,
  type NewAuditEntry,
  openAudit,
  pipelined,
  recordAudit,
  settleAudits,
} from "@labnet/db";
import type { Logger } from "@labnet/log";
import type { Context, MiddlewareHandler } from "hono";
import type { Access } from "./gate";
import { checkQuotas, type QuotaCheck, quotaBaseline } from "./quotas";

/** One request as the audit log and the quotas see it, filled in as the request goes. */
export interface RequestAudit {
  requestId: string;
  method: string;
  path: string;
  access: Access;
  /** Set by the gate once the request is known to be an operation of the contract. */
  operationId?: string;
  target?: { type: string; id: string };
  labId?: string | null;
  instanceId?: string | null;
  /** Whether a transaction of this request already wrote its entry. */
  written: boolean;
  /** The limits a change of this request must stay within (none for an admin). */
  quota?: QuotaCheck;
}

const storage = new AsyncLocalStorage<RequestAudit>();

/** The request being handled, for the gate to fill in (undefined outside a request). */
export function currentAudit(): RequestAudit | undefined {
  return storage.getStore();
}

/** The methods that change things: what the audit log records and the quotas check. */
export const MUTATIONS: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function entryOf(audit: RequestAudit, outcome: NewAuditEntry["outcome"]): NewAuditEntry {
  const { token } = audit.access;
  return {
    requestId: audit.requestId,
    tokenId: token.id,
    tokenName: token.name,
    accountId: token.accountId,
    role: token.role,
    operationId: audit.operationId ?? "unknown",
    method: audit.method,
    path: audit.path,
    targetType: audit.target?.type ?? null,
    targetId: audit.target?.id ?? null,
    labId: audit.labId ?? (audit.access.scope.kind === "instance" ? audit.access.scope.labId : null),
    instanceId:
      audit.instanceId ?? (audit.access.scope.kind === "instance" ? audit.access.scope.instanceId : null),
    outcome,
  };
}

/**
 * The database the routes use: every transaction a mutating request runs writes the request's
 * audit entry inside it (so a change is never without its entry) and, for a token with
 * quotas, takes the account's quota lock and checks the limits before it commits, so two
 * concurrent creations cannot both pass a limit. Outside a mutating request it is `db`.
 */
export function auditedDatabase(db: Database): Database {
  const audited = Object.create(db) as Database;
  const transaction: Database["transaction"] = (run, config) =>
    db.transaction(async (tx) => {
      const audit = storage.getStore();
      if (!audit?.operationId || !MUTATIONS.has(audit.method)) {
        return run(tx);
      }
      // The entry first, with the request id the events of this transaction's triggers carry;
      // the request's own statements follow it on the connection without waiting for it.
      const [, result] = await pipelined(openAudit(tx, entryOf(audit, "committed")), async () => {
        const quota = audit.quota;
        if (!quota) {
          return run(tx);
        }
        // Read committed: the lock comes at the end (checkQuotas); otherwise first.
        const baseline = await quotaBaseline(tx, quota, {
          lockFirst: (config?.isolationLevel ?? "read committed") !== "read committed",
        });
        const result = await run(tx);
        await checkQuotas(tx, quota, baseline);
        return result;
      });
      audit.written = true;
      return result;
    }, config);
  Object.defineProperty(audited, "transaction", { value: transaction });
  return audited;
}

/** Flushes answers this long after the first one waiting (or at once past MAX_PENDING). */
const SETTLE_DELAY_MS = 50;
const MAX_PENDING = 500;

/**
 * The statuses of committed entries, written in batches: one UPDATE for every answer of a
 * burst instead of a transaction per request. An answer waits at most SETTLE_DELAY_MS; one
 * lost with a crashed gateway leaves its committed entry without a status.
 */
export interface AuditSettler {
  settle(answer: AuditAnswer): void;
  /** Writes what waits (before a read of the log, and at stop). */
  flush(): Promise<void>;
}

export function createAuditSettler(db: Database, log: Logger): AuditSettler {
  let pending: AuditAnswer[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    const batch = pending;
    pending = [];
    // One statement at a time, so a flush that returns has written everything before it.
    writing = writing.then(() =>
      settleAudits(db, batch).catch((error: unknown) =>
        log.error("audit statuses not written", { requests: batch.length, error: String(error) }),
      ),
    );
    return writing;
  };
  return {
    settle(answer) {
      pending.push(answer);
      if (pending.length >= MAX_PENDING) {
        void flush();
      } else if (!timer) {
        timer = setTimeout(() => void flush(), SETTLE_DELAY_MS);
        timer.unref();
      }
    },
    flush,
  };
}

/**
 * Runs each authenticated request inside its audit record; once answered, a mutation's entry
 * gets its status through `settler` (a request refused or failed before any change is
 * recorded then, on its own, status included).
 */
export function auditRequests(db: Database, log: Logger, settler: AuditSettler): MiddlewareHandler {
  return async (c, next) => {
    const access = c.get("access" as never) as Access | undefined;
    if (!access) {
      return next();
    }
    const audit: RequestAudit = {
      requestId: (c.get("requestId" as never) as string | undefined) ?? crypto.randomUUID(),
      method: c.req.method,
      path: c.req.path,
      access,
      written: false,
    };
    await storage.run(audit, next);
    if (!audit.operationId || !MUTATIONS.has(audit.method)) {
      return;
    }
    const status = c.res.status;
    const problem = await problemCodeOf(c);
    try {
      if (audit.written) {
        settler.settle({ requestId: audit.requestId, status, problem });
      } else {
        const outcome = status < 400 ? "committed" : status >= 500 ? "failed" : "refused";
        await recordAudit(db, { ...entryOf(audit, outcome), status, problem });
      }
    } catch (error) {
      log.error("audit entry not written", { requestId: audit.requestId, error: String(error) });
    }
  };
}

async function problemCodeOf(c: Context): Promise<string | null> {
  if (c.res.status < 400 || !c.res.headers.get("content-type")?.includes("problem+json")) {
    return null;
  }
  try {
    const body = (await c.res.clone().json()) as { code?: unknown };
    return typeof body.code === "string" ? body.code : null;
  } catch {
    return null;
  }
}
