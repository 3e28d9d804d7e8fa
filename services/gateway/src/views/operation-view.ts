import type { components, ProblemCode } from "@labnet/api";
import type { Db, OperationRow } from "@labnet/db";
import { operationProgress, operationStepFacts } from "./operation-progress";

type Operation = components["schemas"]["Operation"];
type OperationRef = components["schemas"]["OperationRef"];

export function operationHref(id: string): string {
  return `/v1/operations/${id}`;
}

export function operationRef(op: Pick<OperationRow, "id" | "state">): OperationRef {
  return { id: op.id, state: op.state, href: operationHref(op.id) };
}

/** An operation as the API shows it, its progress counted from the rows its steps depend on. */
export async function operationView(db: Db, op: OperationRow): Promise<Operation> {
  const progress = operationProgress(op, await operationStepFacts(db, op.hostId));
  return {
    id: op.id,
    kind: op.kind,
    state: op.state,
    hostId: op.hostId,
    target: { type: op.targetType, id: op.targetId },
    attempts: op.attempts,
    progress,
    ...(op.error ? { error: { ...op.error, code: op.error.code as ProblemCode, requestId: op.id } } : {}),
    createdAt: op.createdAt.toISOString(),
    ...(op.startedAt ? { startedAt: op.startedAt.toISOString() } : {}),
    ...(op.finishedAt ? { finishedAt: op.finishedAt.toISOString() } : {}),
  };
}
