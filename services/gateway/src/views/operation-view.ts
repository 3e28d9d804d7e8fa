import type { components, ProblemCode } from "@labnet/api";
import type { OperationRow } from "@labnet/db";

type Operation = components["schemas"]["Operation"];
type OperationRef = components["schemas"]["OperationRef"];

export function operationHref(id: string): string {
  return `/v1/operations/${id}`;
}

export function operationRef(op: Pick<OperationRow, "id" | "state">): OperationRef {
  return { id: op.id, state: op.state, href: operationHref(op.id) };
}

export function operationView(op: OperationRow): Operation {
  return {
    id: op.id,
    kind: op.kind as Operation["kind"],
    state: op.state,
    hostId: op.hostId,
    target: { type: op.targetType, id: op.targetId },
    attempts: op.attempts,
    ...(op.progress !== null ? { progress: op.progress } : {}),
    ...(op.error ? { error: { ...op.error, code: op.error.code as ProblemCode, requestId: op.id } } : {}),
    createdAt: op.createdAt.toISOString(),
    ...(op.startedAt ? { startedAt: op.startedAt.toISOString() } : {}),
    ...(op.finishedAt ? { finishedAt: op.finishedAt.toISOString() } : {}),
  };
}
