import { type Cidr, cidrOf, cidrsOverlap, formatCidr, parseIpv4, reservedSubnetProblem } from "@labnet/ipam";
import {
  assertValidDesiredHost,
  assertValidPortMappings,
  type DesiredBridge,
  type DesiredHost,
  type DesiredSandbox,
} from "@labnet/netplan";

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
 * `foreignLinks` are chosen bridge names the kernel has as links that are not Labnet's
 * (foreignBridgeNames, once observed): their networks fail rather than take them over.
 */
export function dropInvalidTargets(
  desired: DesiredHost,
  netnsPrefix: string,
  ownAddresses: readonly string[] = [],
  foreignLinks: ReadonlySet<string> = new Set(),
): InvalidTargets {
  const invalid = new Map<string, string>();
  const own = ownAddresses.flatMap((address) => {
    const cidr = subnetOfAddress(address);
    return cidr ? [{ cidr, address }] : [];
  });
  const check = (id: string, host: DesiredHost): boolean => {
    try {
      assertValidDesiredHost(host, netnsPrefix);
      for (const bridge of host.bridges) {
        assertRoutableBridge(bridge, own);
        if (foreignLinks.has(bridge.bridge)) {
          throw new Error(
            `refusing bridge ${bridge.bridge}: the host already has an interface of that name that is not Labnet's`,
          );
        }
      }
      for (const sandbox of host.sandboxes) {
        assertRoutableMacvlans(sandbox);
      }
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

/** `a.b.c.d/p` as its subnet; undefined for anything else. */
function subnetOfAddress(address: string): Cidr | undefined {
  const [addr, prefix, ...rest] = address.split("/");
  const n = addr === undefined ? undefined : parseIpv4(addr);
  const p = Number(prefix);
  return rest.length === 0 && n !== undefined && Number.isInteger(p) && p >= 0 && p <= 32
    ? cidrOf(n, p)
    : undefined;
}

/**
 * The API refuses these subnets (issue 13); a row that has one anyway (written around the API,
 * or before the check) must still not get a bridge: one on loopback or multicast space, or on
 * the subnet of the host's uplink, takes the host's own traffic.
 */
function assertRoutableBridge(bridge: DesiredBridge, own: readonly { cidr: Cidr; address: string }[]): void {
  for (const subnet of bridge.subnets) {
    const cidr = subnetOfAddress(subnet);
    if (!cidr) {
      continue; // assertValidDesiredHost has refused it already
    }
    const reserved = reservedSubnetProblem(cidr);
    if (reserved !== undefined) {
      throw new Error(`refusing bridge ${bridge.bridge} on ${subnet}: ${reserved}`);
    }
    const clash = own.find((o) => cidrsOverlap(o.cidr, cidr));
    if (clash) {
      throw new Error(
        `refusing bridge ${bridge.bridge} on ${subnet}: it overlaps ${formatCidr(clash.cidr)} of the host's own address ${clash.address}`,
      );
    }
  }
}

/** A macvlan may share its parent's subnet, but never take reserved space. */
function assertRoutableMacvlans(sandbox: DesiredSandbox): void {
  for (const endpoint of sandbox.macvlanEndpoints ?? []) {
    const cidr = subnetOfAddress(endpoint.address);
    const reserved = cidr ? reservedSubnetProblem(cidr) : undefined;
    if (reserved !== undefined) {
      throw new Error(`refusing macvlan endpoint ${endpoint.endpointId} at ${endpoint.address}: ${reserved}`);
    }
  }
}
