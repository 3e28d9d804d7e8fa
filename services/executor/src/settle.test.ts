import type { OperationRow } from "@labnet/db";
import { describe, expect, it } from "vitest";
import { MAX_ATTEMPTS, settlementOf } from "./settle";

function op(id: string, targetId: string, attempts: number): OperationRow {
  const at = new Date(0);
  return {
    id,
    kind: "node.ensure",
    hostId: "hst_aaaaaaaaaaaaaaaa",
    targetType: "node",
    targetId,
    state: "running",
    attempts,
    error: null,
    dispatchedAt: at,
    startedAt: at,
    finishedAt: null,
    createdAt: at,
    updatedAt: at,
  };
}

describe("settlementOf", () => {
  it("succeeds operations whose target converged, retries failed ones, fails them out of attempts", () => {
    const ok = op("op_a", "nod_a", 1);
    const retry = op("op_b", "nod_b", 2);
    const last = op("op_c", "nod_c", MAX_ATTEMPTS);
    const settlement = settlementOf({
      operations: [ok, retry, last],
      failures: new Map([
        ["nod_b", "sandbox x failed"],
        ["nod_c", "host batch failed"],
      ]),
      departed: false,
      timings: {},
    });
    expect(settlement.succeeded).toEqual([ok]);
    expect(settlement.retrying.map((r) => [r.op.id, r.problem.detail])).toEqual([
      ["op_b", "sandbox x failed"],
    ]);
    expect(settlement.failed.map((r) => [r.op.id, r.problem.code])).toEqual([
      ["op_c", "KERNEL_OPERATION_FAILED"],
    ]);
    // Backoff doubles from 0.5 s with the attempts of the earliest retry.
    expect(settlement.retryInMs).toBe(1000);
  });

  it("fails every operation of the converge with a failure of the whole host", () => {
    const settlement = settlementOf({
      operations: [op("op_a", "nod_a", 1), op("op_b", "nod_b", 1)],
      failures: new Map(),
      hostFailure: "iptables failed",
      departed: false,
      timings: {},
    });
    expect(settlement.succeeded).toEqual([]);
    expect(settlement.retrying).toHaveLength(2);
    expect(settlement.retryInMs).toBe(500);
  });

  it("keeps a target's own failure beside the host's: it may be what made the host's fail", () => {
    const settlement = settlementOf({
      operations: [op("op_a", "nod_a", 1), op("op_b", "nod_b", 1)],
      failures: new Map([["nod_a", "netns add failed: no user namespace"]]),
      hostFailure: "host batch failed",
      departed: false,
      timings: {},
    });
    expect(settlement.retrying.map((r) => [r.op.id, r.problem.detail])).toEqual([
      ["op_a", "netns add failed: no user namespace; host batch failed"],
      ["op_b", "host batch failed"],
    ]);
  });

  it("schedules nothing when nothing is to be retried", () => {
    const settlement = settlementOf({ operations: [], failures: new Map(), departed: false, timings: {} });
    expect(settlement.retryInMs).toBeUndefined();
  });
});
