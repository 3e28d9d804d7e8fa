import type { components } from "@labnet/api";
import { type Db, endpointsOfNodes, latestOperationFor, type NodeRow, portMappingsOfNodes } from "@labnet/db";
import { operationRef } from "./operation-view";
import { dockerPortsMap } from "./port-view";
import { sandboxesOf } from "./sandbox-of";

type Node = components["schemas"]["Node"];

/** Nodes as the API shows them (what `docker inspect` shows under NetworkSettings). */
export async function nodeViews(db: Db, rows: NodeRow[]): Promise<Node[]> {
  const ids = rows.map((r) => r.id);
  const sandboxes = await sandboxesOf(db, rows);
  const endpointOwners = [...new Set([...sandboxes.values()].map((s) => s.endpointsOf))];
  const [endpoints, operations, portMappings] = await Promise.all([
    endpointsOfNodes(db, endpointOwners),
    latestOperationFor(db, ids),
    portMappingsOfNodes(db, ids),
  ]);
  return rows.map((row) => {
    // Mode container: shows the namespace owner's networking (same addresses, same ports).
    const sandbox = sandboxes.get(row.id) ?? { sandboxKey: "", endpointsOf: row.id };
    const sandboxKey = sandbox.sandboxKey;
    const op = operations.get(row.id);
    return {
      id: row.id,
      name: row.name,
      hostId: row.hostId,
      networkMode: row.networkMode,
      state: row.state,
      createdAt: row.createdAt.toISOString(),
      labels: row.labels,
      sandboxKey,
      networkSettings: {
        sandboxKey,
        networks: Object.fromEntries(
          endpoints
            .filter((e) => e.nodeId === sandbox.endpointsOf)
            .map((e) => {
              const [ipAddress = "", prefix = "32"] = e.address.split("/");
              return [
                e.networkName,
                {
                  networkId: e.networkId,
                  endpointId: e.id,
                  interface: `eth${e.ifIndex}`,
                  ipAddress,
                  ipPrefixLen: Number(prefix),
                  // Like Docker: an internal network gives the node no gateway.
                  gateway: e.internal ? "" : (e.gateway ?? ""),
                  macAddress: e.mac,
                  aliases: e.aliases,
                },
              ];
            }),
        ),
        ports: dockerPortsMap(
          row.exposedPorts,
          portMappings.filter((m) => m.nodeId === row.id),
        ),
      },
      exposedPorts: row.exposedPorts,
      publishAll: row.publishAll,
      hostname: row.hostname ?? row.name,
      dns: row.dns,
      extraHosts: Object.entries(row.extraHosts)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, address]) => `${name}:${address}`),
      ...(op ? { operation: operationRef(op) } : {}),
    };
  });
}

export async function nodeView(db: Db, row: NodeRow): Promise<Node> {
  const [view] = await nodeViews(db, [row]);
  if (!view) {
    throw new Error("node view missing");
  }
  return view;
}
