import type {
  HostRow,
  NodeDetailEndpoint,
  NodeDetails,
  NodeRow,
  OperationRow,
  PortMappingRow,
} from "@labnet/db";
import { parseIpv4 } from "@labnet/ipam";

/**
 * What a just-created node's view shows, from what its transaction recorded, in the shape
 * `nodeDetailsByIds` reads it (so answering the creation costs no query): its endpoints in
 * attach order, its ports ordered as the database orders them, its operation. Only for a
 * node with a namespace of its own or the host's; a node in mode `container:` shows another
 * node's endpoints, which the caller reads instead.
 */
export function detailsOfCreatedNode(created: {
  node: NodeRow;
  host: Pick<HostRow, "netnsPath">;
  endpoints: readonly NodeDetailEndpoint[];
  portMappings: readonly PortMappingRow[];
  /** None for a node recorded without its kernel side (state `created`). */
  operation: Pick<OperationRow, "id" | "state"> | undefined;
}): NodeDetails {
  const { node } = created;
  return {
    node,
    sandboxKey: node.netns ? `/run/netns/${node.netns}` : (created.host.netnsPath ?? ""),
    endpoints: [...created.endpoints].sort((a, b) => a.ifIndex - b.ifIndex),
    portMappings: [...created.portMappings]
      .sort(
        (a, b) =>
          compareText(a.protocol, b.protocol) || a.hostPort - b.hostPort || compareCidr(a.bind, b.bind),
      )
      .map((m) => ({
        protocol: m.protocol,
        bind: m.bind,
        hostPort: m.hostPort,
        containerPort: m.containerPort,
      })),
    operation: created.operation ? { id: created.operation.id, state: created.operation.state } : null,
  };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Postgres' order of IPv4 cidr values: by address, then by prefix length. */
function compareCidr(a: string, b: string): number {
  const [addressA = "", prefixA = "32"] = a.split("/");
  const [addressB = "", prefixB = "32"] = b.split("/");
  return (parseIpv4(addressA) ?? 0) - (parseIpv4(addressB) ?? 0) || Number(prefixA) - Number(prefixB);
}
