import type { components } from "@labnet/api";
import { type Db, endpointsOfNodes, latestOperationFor, type NodeRow } from "@labnet/db";
import { operationRef } from "./operation-view";

type Node = components["schemas"]["Node"];

/** Nodes as the API shows them (what `docker inspect` shows under NetworkSettings). */
export async function nodeViews(db: Db, rows: NodeRow[]): Promise<Node[]> {
  const ids = rows.map((r) => r.id);
  const [endpoints, operations] = await Promise.all([endpointsOfNodes(db, ids), latestOperationFor(db, ids)]);
  return rows.map((row) => {
    const sandboxKey = row.netns ? `/run/netns/${row.netns}` : "";
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
            .filter((e) => e.nodeId === row.id)
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
                  gateway: e.gateway ?? "",
                  macAddress: e.mac,
                },
              ];
            }),
        ),
      },
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
