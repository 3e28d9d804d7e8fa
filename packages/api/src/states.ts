import type { components } from "./generated/labnet.js";

/** The state of an operation: `queued` and `running` are open, the rest are final. */
export type OperationState = components["schemas"]["OperationState"];

/**
 * One vocabulary for every state the API reports: operations (`queued`, `running`,
 * `succeeded`, ...), resources (`pending`, `ready`, `failed`, `deleting`), lab instances
 * (`provisioning`, ...) and check runs (`running`, `done`) all map onto these four.
 */
export type Phase = "pending" | "ready" | "failed" | "deleting";

const PHASES: Record<string, Phase> = {
  queued: "pending",
  running: "pending",
  pending: "pending",
  provisioning: "pending",
  succeeded: "ready",
  ready: "ready",
  done: "ready",
  active: "ready",
  failed: "failed",
  cancelled: "failed",
  deleting: "deleting",
};

/**
 * The {@link Phase} of any state string the API sends; an unknown state is `pending`
 * (a newer server's state is treated as "not finished yet", never as success).
 *
 * @example
 * phaseOf(operation.state) === "ready"; // succeeded
 * phaseOf(lab.instances[0].state); // provisioning → "pending"
 */
export function phaseOf(state: string): Phase {
  return PHASES[state] ?? "pending";
}

/** True once an operation will not change any more (`succeeded`, `failed`, `cancelled`). */
export function isFinalOperationState(state: OperationState): boolean {
  return state === "succeeded" || state === "failed" || state === "cancelled";
}
