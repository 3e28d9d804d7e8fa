import type { components } from "@labnet/api";
import { hostIpOfBind, type PortMappingRow, type PortMappingWithNode } from "@labnet/db";
import { formatPortKey } from "@labnet/netplan";

type PortMapping = components["schemas"]["PortMapping"];
type PortBinding = components["schemas"]["PortBinding"];

/** One ledger row as the API shows it, with `docker port`'s line. */
export function portMappingView(row: PortMappingWithNode): PortMapping {
  const hostIp = hostIpOfBind(row.bind);
  return {
    id: row.id,
    hostId: row.hostId,
    nodeId: row.nodeId,
    nodeName: row.nodeName,
    protocol: row.protocol,
    hostIp,
    hostPort: row.hostPort,
    containerPort: row.containerPort,
    random: row.random,
    display: `${formatPortKey(row.containerPort, row.protocol)} -> ${hostIp}:${row.hostPort}`,
    external: row.external ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/**
 * Docker's `NetworkSettings.Ports`: each exposed or published container port (`80/tcp`)
 * with its bindings, `null` when exposed but not published. Keys in port order.
 */
export function dockerPortsMap(
  exposedPorts: readonly string[],
  mappings: readonly Pick<PortMappingRow, "containerPort" | "protocol" | "bind" | "hostPort">[],
): Record<string, PortBinding[] | null> {
  const ports = new Map<string, { port: number; bindings: PortBinding[] | null }>();
  for (const key of exposedPorts) {
    ports.set(key, { port: Number(key.split("/")[0]), bindings: null });
  }
  for (const m of mappings) {
    const key = formatPortKey(m.containerPort, m.protocol);
    const entry = ports.get(key) ?? { port: m.containerPort, bindings: null };
    entry.bindings = [
      ...(entry.bindings ?? []),
      { hostIp: hostIpOfBind(m.bind), hostPort: String(m.hostPort) },
    ];
    ports.set(key, entry);
  }
  return Object.fromEntries(
    [...ports.entries()]
      .sort(([a, x], [b, y]) => x.port - y.port || (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, entry]) => [key, entry.bindings]),
  );
}
