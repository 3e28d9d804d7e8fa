import { hostIpOfBind, type NodeEndpoint, type PortMappingRow } from "@labnet/db";
import type { DesiredBridge, DesiredPortMapping } from "@labnet/netplan";

/**
 * The host's published ports as kernel state: each ledger row of a live node, DNATed to the
 * node's first endpoint (attach order) on a bridge of this host that is not internal, as
 * Docker publishes on the network that gives egress. A node without one keeps its ledger
 * rows (its ports stay reserved) but gets no rules.
 *
 * `endpoints` are the live nodes' endpoints in attach order.
 */
export function desiredPortMappingsOf(
  rows: readonly PortMappingRow[],
  bridges: readonly DesiredBridge[],
  endpoints: readonly NodeEndpoint[],
): DesiredPortMapping[] {
  if (rows.length === 0) {
    return [];
  }
  const publishing = new Set(bridges.filter((b) => !b.internal).map((b) => b.bridge));
  const targets = new Map<string, { address: string; bridge: string }>();
  for (const endpoint of endpoints) {
    if (!targets.has(endpoint.nodeId) && publishing.has(endpoint.bridgeName)) {
      const [address = ""] = endpoint.address.split("/");
      targets.set(endpoint.nodeId, { address, bridge: endpoint.bridgeName });
    }
  }
  return rows.flatMap((row) => {
    const target = targets.get(row.nodeId);
    if (!target) {
      return [];
    }
    const hostIp = hostIpOfBind(row.bind);
    return [
      {
        protocol: row.protocol,
        ...(hostIp === "0.0.0.0" ? {} : { bindAddress: hostIp }),
        hostPort: row.hostPort,
        targetAddress: target.address,
        targetPort: row.containerPort,
        bridge: target.bridge,
      },
    ];
  });
}
