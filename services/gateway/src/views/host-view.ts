import type { components } from "@labnet/api";
import { type Db, type HostRow, hostUsage, isHostOnline } from "@labnet/db";

type Host = components["schemas"]["Host"];
type NetworkDriver = components["schemas"]["NetworkDriver"];

/** Drivers a network is created with (the contract's `NetworkDriver`). */
const CREATABLE_DRIVERS: ReadonlySet<string> = new Set<NetworkDriver>(["bridge", "macvlan", "overlay"]);

export async function hostViews(db: Db, rows: HostRow[]): Promise<Host[]> {
  const usage = await hostUsage(
    db,
    rows.map((r) => r.id),
  );
  const now = Date.now();
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    status: isHostOnline(row, now) ? "online" : "offline",
    underlayAddress: row.underlayAddress,
    netnsPrefix: row.netnsPrefix,
    netnsPath: row.netnsPath,
    capabilities: {
      ...row.capabilities,
      // An executor from before drivers meant "creatable" also listed host and none.
      drivers: row.capabilities.drivers.filter((d): d is NetworkDriver => CREATABLE_DRIVERS.has(d)),
    },
    labels: row.labels,
    lastHeartbeatAt: row.lastHeartbeatAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
    usage: usage.get(row.id) ?? { networks: 0, nodes: 0 },
    portRange: { start: row.portRangeStart, end: row.portRangeEnd },
  }));
}
