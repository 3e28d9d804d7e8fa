import type { DesiredSandbox } from "@labnet/netplan";
import { describe, expect, it } from "vitest";
import { holdBackNetworkRemovals, RECONCILE_SANDBOXES, reconcileWindow } from "./converge";

const sandboxes = Array.from(
  { length: RECONCILE_SANDBOXES * 2 + 10 },
  (_, i) => ({ nodeId: `nod_${i}`, netns: `ln-${i}`, endpoints: [] }) satisfies DesiredSandbox,
);

describe("reconcileWindow", () => {
  it("looks into every sandbox of a small host", () => {
    expect(reconcileWindow(sandboxes.slice(0, 5), {})).toHaveLength(5);
  });

  it("goes through a large host in turn, wrapping around, every sandbox seen", () => {
    const known = {};
    const seen = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const window = reconcileWindow(sandboxes, known);
      expect(window).toHaveLength(RECONCILE_SANDBOXES);
      for (const s of window) {
        seen.add(s.netns);
      }
    }
    expect(seen.size).toBe(sandboxes.length);
  });
});

describe("holdBackNetworkRemovals", () => {
  const snapshot = {
    nodes: [
      { id: "nod_a", name: "a" },
      { id: "nod_b", name: "b" },
    ],
    endpoints: [
      { nodeId: "nod_a", networkId: "net_x" },
      { nodeId: "nod_b", networkId: "net_x" },
      { nodeId: "nod_b", networkId: "net_y" },
    ],
  } as unknown as Parameters<typeof holdBackNetworkRemovals>[0];
  const ops = [
    { kind: "node.remove" as const, targetId: "nod_a" },
    { kind: "node.remove" as const, targetId: "nod_b" },
    { kind: "network.remove" as const, targetId: "net_x" },
    { kind: "network.remove" as const, targetId: "net_y" },
  ];

  it("lets a network go with the nodes removed in the same converge", () => {
    const failures = new Map<string, string>();
    holdBackNetworkRemovals(snapshot, ops, failures);
    expect(failures).toEqual(new Map());
  });

  it("holds it back while a node on it failed to go, or is not being removed", () => {
    const failures = new Map([["nod_b", "sandbox failed"]]);
    holdBackNetworkRemovals(snapshot, ops, failures);
    expect(failures.get("net_x")).toBe("waits for the removal of b, still on the network");
    expect(failures.get("net_y")).toBe("waits for the removal of b, still on the network");
    const alone = new Map<string, string>();
    holdBackNetworkRemovals(
      snapshot,
      [ops[0], ops[2]].filter((op) => op !== undefined),
      alone,
    );
    expect([...alone]).toEqual([["net_x", "waits for the removal of b, still on the network"]]);
  });
});
