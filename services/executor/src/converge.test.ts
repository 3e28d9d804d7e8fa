import type { DesiredSandbox } from "@labnet/netplan";
import { describe, expect, it } from "vitest";
import { RECONCILE_SANDBOXES, reconcileWindow } from "./converge";

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
