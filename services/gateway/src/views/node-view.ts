import type { components } from "@labnet/api";
import { defaultHostname } from "@labnet/commands";
import type { NodeDetails } from "@labnet/db";
import { operationRef } from "./operation-view";
import { dockerPortsMap } from "./port-view";

type Node = components["schemas"]["Node"];

/**
 * A node as the API shows it (what `docker inspect` shows under NetworkSettings), from the
 * details one statement reads (`nodeDetailsByIds`, `listNodeDetails`): no query of its own.
 */
export function nodeView(details: NodeDetails): Node {
  const { node: row, sandboxKey } = details;
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
      // Mode container: shows the namespace owner's networking (same addresses, same ports).
      networks: Object.fromEntries(
        details.endpoints.map((e) => {
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
      ports: dockerPortsMap(row.exposedPorts, details.portMappings),
    },
    exposedPorts: row.exposedPorts,
    publishAll: row.publishAll,
    hostname: row.hostname ?? defaultHostname(row),
    dns: row.dns,
    extraHosts: Object.entries(row.extraHosts)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, address]) => `${name}:${address}`),
    ...(details.operation ? { operation: operationRef(details.operation) } : {}),
  };
}
