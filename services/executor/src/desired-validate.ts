import { assertValidDesiredHost, assertValidPortMappings, type DesiredHost } from "@labnet/netplan";

/** Targets left out of a converge because their desired state cannot be rendered. */
export interface InvalidTargets {
  desired: DesiredHost;
  /** Network or node id → why. */
  invalid: Map<string, string>;
}

/**
 * Splits off every bridge, sandbox and port mapping that would fail the planner's checks,
 * so one bad row (a value no kernel command may see) fails its own network or node instead
 * of every converge of the host. Each target is checked on its own, then the rest together
 * (names must also be unique across targets, which the database already guarantees).
 */
export function dropInvalidTargets(desired: DesiredHost, netnsPrefix: string): InvalidTargets {
  const invalid = new Map<string, string>();
  const check = (id: string, host: DesiredHost): boolean => {
    try {
      assertValidDesiredHost(host, netnsPrefix);
      return true;
    } catch (error) {
      invalid.set(id, error instanceof Error ? error.message : String(error));
      return false;
    }
  };
  const bridges = desired.bridges.filter((bridge) =>
    check(bridge.networkId, { bridges: [bridge], sandboxes: [], portMappings: [] }),
  );
  const byName = new Map(bridges.map((b) => [b.bridge, b]));
  const sandboxes = desired.sandboxes.filter((sandbox) =>
    check(sandbox.nodeId, {
      // Only its own bridges: checking every bridge again per sandbox would be quadratic.
      bridges: [...new Set(sandbox.endpoints.map((e) => e.bridge))].flatMap((name) => {
        const bridge = byName.get(name);
        return bridge ? [bridge] : [];
      }),
      sandboxes: [sandbox],
      portMappings: [],
    }),
  );
  const kept = new Set(bridges.map((b) => b.bridge));
  const portMappings = desired.portMappings.filter((mapping) => {
    try {
      assertValidPortMappings([mapping]);
      return kept.has(mapping.bridge);
    } catch {
      return false; // the ledger row stays; only its rules are left out
    }
  });
  const overlays = (desired.overlays ?? []).filter((overlay) => {
    const bridge = byName.get(overlay.bridge);
    return (
      kept.has(overlay.bridge) &&
      check(overlay.networkId, {
        bridges: bridge ? [bridge] : [],
        sandboxes: [],
        portMappings: [],
        overlays: [overlay],
      })
    );
  });
  const result = {
    ...desired,
    bridges,
    sandboxes,
    portMappings,
    ...(desired.overlays ? { overlays } : {}),
  };
  assertValidDesiredHost(result, netnsPrefix);
  return { desired: result, invalid };
}
