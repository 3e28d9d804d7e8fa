import { type Database, findAccount } from "@labnet/db";
import type { GateInput, OperationGate } from "../http/openapi-router";
import { currentAudit, MUTATIONS } from "./audit";
import { type Access, admitOperation } from "./gate";
import { studentRulesOf } from "./lab-students";
import { effectiveQuotas, type Quotas } from "./quotas";
import { ACCESS_RULES } from "./rules";

/**
 * The gate one request passes (set by authentication, called by the router for every
 * operation): the access rules, then what the audit log and the quotas need to know of it.
 */
export function operationGate(db: Database, access: Access, defaults: Quotas): OperationGate {
  return async (operationId, input) => {
    const audit = currentAudit();
    if (audit) {
      // Known before the rules run, so a refused request is recorded as what it asked for.
      audit.operationId = operationId;
    }
    try {
      await admitOperation(db, access, operationId, input);
    } finally {
      if (audit) {
        describeTarget(access, operationId, input, audit);
      }
    }
    if (!audit) {
      return;
    }
    const { scope, token } = access;
    if (scope.kind === "all" || !MUTATIONS.has(audit.method) || !token.accountId) {
      return;
    }
    const account = await findAccount(db, token.accountId);
    audit.quota = {
      accountId: token.accountId,
      quotas: effectiveQuotas(account?.quotas, defaults),
      ...(scope.kind === "instance"
        ? {
            student: { instanceId: scope.instanceId, limits: (await studentRulesOf(db, scope.labId)).limits },
          }
        : {}),
    };
  };
}

/** The resource the path names (the last one: a lab's instance, not the lab), and its lab. */
function describeTarget(
  access: Access,
  operationId: Parameters<OperationGate>[0],
  input: GateInput,
  audit: NonNullable<ReturnType<typeof currentAudit>>,
): void {
  const pathRefs = (ACCESS_RULES[operationId].refs ?? []).filter((r) => r.at.startsWith("path."));
  const last = pathRefs.at(-1);
  if (!last) {
    return;
  }
  const resolved = access.resolved.get(last.at);
  const raw = input.params[last.at.slice("path.".length)];
  audit.target = {
    type: last.kind === "ownTemplate" ? "template" : last.kind,
    id: resolved?.id ?? String(raw),
  };
  const lab = access.resolved.get("path.labId");
  if (lab) {
    audit.labId = lab.id;
  } else if (last.kind === "lab" && typeof raw === "string" && raw.startsWith("lab_")) {
    audit.labId = raw;
  }
  const instance = access.resolved.get("path.instanceId");
  if (instance) {
    audit.instanceId = instance.id;
  }
}
