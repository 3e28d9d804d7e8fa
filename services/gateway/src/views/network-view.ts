import type { components } from "@labnet/api";
import {
  type Db,
  endpointsOnNetworks,
  ipamConfigsOf,
  latestOperationFor,
  type NetworkRow,
  overlayMachinesOf,
} from "@labnet/db";
import { operationRef } from "./operation-view";

type Network = components["schemas"]["Network"];

/** Networks as the API shows them (what `docker network inspect` shows), in one query per table. */
export async function networkViews(db: Db, rows: NetworkRow[]): Promise<Network[]> {
  const ids = rows.map((r) => r.id);
  const [configs, attached, operations, peers] = await Promise.all([
    ipamConfigsOf(db, ids),
    endpointsOnNetworks(db, ids),
    latestOperationFor(db, ids),
    overlayMachinesOf(
      db,
      rows.filter((r) => r.driver === "overlay").map((r) => r.id),
    ),
  ]);
  return rows.map((row) => {
    const op = operations.get(row.id);
    return {
      id: row.id,
      name: row.name,
      hostId: row.hostId ?? "",
      driver: row.driver as Network["driver"],
      ...(row.driver === "overlay"
        ? {
            scope: "lan" as const,
            lanId: row.scope.slice("lan:".length),
            peers: (peers.get(row.id) ?? []).map(({ hostId, name, address }) => ({ hostId, name, address })),
          }
        : { scope: "local" as const }),
      internal: row.internal,
      attachable: row.attachable,
      builtin: row.builtin,
      ipam: {
        configs: configs
          .filter((c) => c.networkId === row.id)
          .map((c) => ({
            subnet: c.subnet,
            gateway: c.gateway,
            ...(c.ipRange ? { ipRange: c.ipRange } : {}),
            ...(Object.keys(c.auxAddresses).length > 0 ? { auxAddresses: c.auxAddresses } : {}),
          })),
      },
      options: optionsView(row),
      labels: row.labels,
      state: row.state,
      createdAt: row.createdAt.toISOString(),
      containers: Object.fromEntries(
        attached
          .filter((a) => a.networkId === row.id)
          .map((a) => [
            a.nodeId,
            { name: a.nodeName, endpointId: a.endpointId, macAddress: a.mac, ipv4Address: a.address },
          ]),
      ),
      ...(op ? { operation: operationRef(op) } : {}),
    };
  });
}

/** A bridge network shows its bridge; a macvlan network its parent and mode, as Docker's inspect does. */
function optionsView(row: NetworkRow): Network["options"] {
  const common = { mtu: row.mtu, icc: row.icc, isolated: row.isolated };
  if (row.driver === "overlay") {
    const vni = row.options["com.docker.network.driver.overlay.vxlanid_list"];
    return {
      bridgeName: row.bridgeName,
      ...common,
      ...(vni ? { "com.docker.network.driver.overlay.vxlanid_list": vni } : {}),
    };
  }
  if (row.driver !== "macvlan") {
    return { bridgeName: row.bridgeName, ...common };
  }
  const { parent, macvlan_mode: mode } = row.options;
  return {
    ...common,
    ...(parent ? { parent } : {}),
    ...(mode ? { macvlan_mode: mode as NonNullable<Network["options"]["macvlan_mode"]> } : {}),
  };
}

export async function networkView(db: Db, row: NetworkRow): Promise<Network> {
  const [view] = await networkViews(db, [row]);
  if (!view) {
    throw new Error("network view missing");
  }
  return view;
}
