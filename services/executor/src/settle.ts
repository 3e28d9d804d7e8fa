import type { ConvergeOutcome, OperationProblem } from "@labnet/commands";
import type { OperationRow, StoredProblem } from "@labnet/db";
import type { ConvergeReport } from "./converge";

/** Converges an operation may take part in before it is failed. */
export const MAX_ATTEMPTS = 5;
/** Delay before the converge that retries a failed target; doubles per attempt. */
const RETRY_BASE_MS = 500;

/** How a converge's operations are settled, and when to converge again for the ones to retry. */
export interface Settlement extends ConvergeOutcome {
  /** Converge again after this long (there are operations to retry). */
  retryInMs?: number;
}

/**
 * Decides each operation of a converge: its target converged (succeeded), or it failed and
 * is tried again by a later converge until it has taken part in {@link MAX_ATTEMPTS}.
 * Pure: the caller writes it with `settleOperations`.
 */
export function settlementOf(report: ConvergeReport): Settlement {
  const succeeded: OperationRow[] = [];
  const failed: OperationProblem[] = [];
  const retrying: OperationProblem[] = [];
  for (const op of report.operations) {
    // Both when both: a target's own failure may be what made the host's fail.
    const own = report.failures.get(op.targetId);
    const detail =
      own !== undefined && report.hostFailure !== undefined
        ? `${own}; ${report.hostFailure}`
        : (own ?? report.hostFailure);
    if (detail === undefined) {
      succeeded.push(op);
    } else if (op.attempts >= MAX_ATTEMPTS) {
      failed.push({ op, problem: kernelProblem(detail) });
    } else {
      retrying.push({ op, problem: kernelProblem(detail) });
    }
  }
  const attempts = Math.min(...retrying.map(({ op }) => op.attempts));
  return {
    succeeded,
    failed,
    retrying,
    ...(retrying.length > 0 ? { retryInMs: RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1) } : {}),
  };
}

function kernelProblem(detail: string): StoredProblem {
  return {
    type: "https://labnet.dev/problems/kernel-operation-failed",
    title: "The lab host could not apply the change",
    status: 500,
    detail: detail.slice(0, 2000),
    code: "KERNEL_OPERATION_FAILED",
  };
}
