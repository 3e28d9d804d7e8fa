import type { components } from "@labnet/api";
import { type Db, findHost, type HostRow, machineUplinks } from "@labnet/db";

type Machine = components["schemas"]["Machine"];

/** Machines as the API shows them: a virtual one with its lab host, LAN and how far it is built. */
export async function machineViews(db: Db, rows: HostRow[]): Promise<Machine[]> {
  const virtual = rows.filter((r) => r.kind === "virtual");
  const uplinks = await machineUplinks(
    db,
    virtual.map((r) => r.id),
  );
  const parents = new Map(rows.filter((r) => r.kind === "lab").map((r) => [r.id, r]));
  const missing = [...new Set(virtual.map((r) => r.parentHostId ?? ""))].filter(
    (id) => id && !parents.has(id),
  );
  for (const parent of await Promise.all(missing.map((id) => findHost(db, id)))) {
    if (parent) {
      parents.set(parent.id, parent);
    }
  }
  return rows.map((row) => {
    const uplink = uplinks.get(row.id);
    const parent = row.parentHostId ? parents.get(row.parentHostId) : undefined;
    return {
      id: row.id,
      name: row.name,
      kind: row.kind,
      state: machineStateOf(row, uplink?.nodeState, uplink?.bridgeState),
      hostname: row.hostname ?? row.name,
      host: parent ? { id: parent.id, name: parent.name } : null,
      lan: uplink
        ? {
            id: uplink.lanId,
            name: uplink.lanName,
            subnet: uplink.subnet,
            gateway: uplink.gateway,
            address: uplink.address,
          }
        : null,
      netnsPath: row.netnsPath,
      netnsPrefix: row.netnsPrefix,
      uid: row.uid,
      drift: row.drift ?? null,
      labels: row.labels,
      createdAt: row.createdAt.toISOString(),
    };
  });
}

/** Built when both its namespace (the uplink node) and its `bridge` network are. */
export function machineStateOf(
  row: HostRow,
  nodeState: string | undefined,
  bridgeState: string | null | undefined,
): Machine["state"] {
  if (row.kind === "lab") {
    return "ready";
  }
  if (row.state === "deleting" || nodeState === "deleting") {
    return "deleting";
  }
  if (nodeState === "failed" || bridgeState === "failed") {
    return "failed";
  }
  return nodeState === "ready" && bridgeState === "ready" ? "ready" : "pending";
}
