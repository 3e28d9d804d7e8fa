import type { components } from "@labnet/api";
import { type Db, hostKindAndUplinkState, type OperationRow } from "@labnet/db";

type OperationProgress = components["schemas"]["OperationProgress"];

/** What an operation's steps depend on besides its own state, as Postgres records it. */
export interface OperationStepFacts {
  /** Its host is a virtual machine: the machine's namespace is a step before its converge. */
  onMachine: boolean;
  /**
   * That namespace is built: the uplink node is `ready` (or `deleting`: a machine is emptied
   * before its namespace goes). The executor starts a machine's operations only then.
   */
  namespaceBuilt: boolean;
}

/**
 * How many of an operation's steps are done (see OperationProgress in the contract). A host's
 * converge does an operation's kernel work in one batch, so that step is whole or not done:
 * the only counts in between are steps that really happen apart, in separate converges.
 */
export function operationProgress(
  op: Pick<OperationRow, "state">,
  facts: OperationStepFacts,
): OperationProgress {
  const total = facts.onMachine ? 2 : 1;
  if (op.state === "succeeded") {
    return { done: total, total };
  }
  const waitingForNamespace = facts.onMachine && !facts.namespaceBuilt;
  const done = facts.onMachine && facts.namespaceBuilt ? 1 : 0;
  if (op.state === "failed" || op.state === "cancelled") {
    return { done, total };
  }
  return { done, total, waitingFor: waitingForNamespace ? "namespace" : "converge" };
}

/**
 * Hosts known not to be virtual machines. A host's kind is set when it is registered and never
 * changes, so their operations' facts need no lookup: one round trip less on every answer of
 * a lab host's operation (each 202 carries one). Ids are never reused; the set is bounded.
 */
const notMachines = new Set<string>();
const NOT_MACHINES_MAX = 10_000;

/** Reads the facts of {@link operationProgress} for an operation's host (one indexed lookup). */
export async function operationStepFacts(db: Db, hostId: string): Promise<OperationStepFacts> {
  if (notMachines.has(hostId)) {
    return { onMachine: false, namespaceBuilt: false };
  }
  const row = await hostKindAndUplinkState(db, hostId);
  if (row && row.kind !== "virtual") {
    if (notMachines.size >= NOT_MACHINES_MAX) {
      notMachines.clear();
    }
    notMachines.add(hostId);
  }
  const onMachine = row?.kind === "virtual";
  return {
    onMachine,
    namespaceBuilt: onMachine && (row?.uplinkState === "ready" || row?.uplinkState === "deleting"),
  };
}
