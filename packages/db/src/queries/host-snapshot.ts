import { asc, eq, inArray, or, type SQL, sql } from "drizzle-orm";
import type { Database } from "../client";
import { ipamConfigs as ipamConfigsTable, networks, nodes } from "../schema";
import type { Db } from "../tx";
import { type IpamConfigRow, ipamConfigsOfHost } from "./ipam";
import type { NetworkRow } from "./networks";
import { endpointsOfHost, type NodeEndpoint, type NodeRow } from "./nodes";
import { type OperationRow, openOperationsOfHost } from "./operations";
import { livePortMappingsOfHost, type PortMappingRow } from "./port-ledger";

/**
 * Everything one converge of a host needs, read in one consistent snapshot: the operations
 * it will settle and the desired state that serves exactly them. An operation recorded after
 * the snapshot is not in it, and neither is its intent: the next converge serves both.
 */
export interface HostSnapshot {
  /** Open operations (queued or running), oldest first. */
  operations: OperationRow[];
  /**
   * Every network of the host, in creation order, whatever its state; then the overlay
   * networks of the machine's LAN (scope `lan:<id>`), which the machine builds where it has
   * endpoints on them.
   */
  networks: NetworkRow[];
  /** IPAM configs of those networks, in position order. */
  ipamConfigs: IpamConfigRow[];
  /**
   * Endpoints of live nodes of other machines on those overlay networks, with the underlay
   * address of their machine (its uplink's address on the LAN): what the vxlan devices here
   * forward to. Absent (empty) for a host on no LAN.
   */
  overlayPeers?: OverlayPeer[];
  /** Every node of the host, in creation order, whatever its state. */
  nodes: NodeRow[];
  /** Endpoints of those nodes, in attach order. */
  endpoints: NodeEndpoint[];
  /** Ledger rows of nodes not being removed, in ledger order. */
  portMappings: PortMappingRow[];
}

/** An endpoint of another machine on an overlay network this machine may build. */
export interface OverlayPeer {
  networkId: string;
  endpointId: string;
  /** The remote machine (a host id). */
  hostId: string;
  /** Lowercase, `02:42:ac:10:00:02`. */
  mac: string;
  /** Without prefix. */
  address: string;
  /** The remote machine's `eth0` address on the LAN (its VTEP), without prefix. */
  vtep: string;
}

/**
 * The scope of the overlay networks of machine `hostId`'s LAN, `lan:<LAN network id>`, as SQL
 * (NULL for a machine on no LAN: a lab host). The LAN is the network of the machine's uplink
 * node's endpoint.
 */
export function lanScopeOfHost(hostId: SQL | string): SQL {
  return sql`(SELECT 'lan:' || ue.network_id FROM hosts uh JOIN endpoints ue ON ue.node_id = uh.uplink_node_id
    WHERE uh.id = ${hostId} ORDER BY ue.if_index LIMIT 1)`;
}

/** {@link OverlayPeer}s of machine `hostId`: endpoints of live nodes elsewhere on its LAN's overlays. */
export async function overlayPeersOfHost(db: Db, hostId: string): Promise<OverlayPeer[]> {
  const rows = await db.execute<{
    network_id: string;
    endpoint_id: string;
    host_id: string;
    mac: string;
    address: string;
    vtep: string;
  }>(sql`
    SELECT e.network_id, e.id AS endpoint_id, n.host_id, lower(e.mac::text) AS mac,
      host(e.address) AS address, host(ue.address) AS vtep
    FROM networks w
    JOIN endpoints e ON e.network_id = w.id
    JOIN nodes n ON n.id = e.node_id
    JOIN hosts h ON h.id = n.host_id
    JOIN endpoints ue ON ue.node_id = h.uplink_node_id AND 'lan:' || ue.network_id = w.scope
    WHERE w.driver = 'overlay' AND w.scope = ${lanScopeOfHost(hostId)}
      AND n.host_id <> ${hostId} AND n.state NOT IN ('deleting', 'failed')
    ORDER BY e.network_id, e.mac`);
  return rows.map((r) => ({
    networkId: r.network_id,
    endpointId: r.endpoint_id,
    hostId: r.host_id,
    mac: r.mac,
    address: r.address,
    vtep: r.vtep,
  }));
}

/** A machine with endpoints on an overlay network, and its VTEP (its `eth0` address on the LAN). */
export interface OverlayMachine {
  networkId: string;
  hostId: string;
  name: string;
  address: string;
}

/** The machines with endpoints (of nodes not being removed) on each of the overlay networks `networkIds`. */
export async function overlayMachinesOf(
  db: Db,
  networkIds: string[],
): Promise<Map<string, OverlayMachine[]>> {
  const result = new Map<string, OverlayMachine[]>();
  if (networkIds.length === 0) {
    return result;
  }
  const rows = await db.execute<{ network_id: string; host_id: string; name: string; address: string }>(sql`
    SELECT DISTINCT e.network_id, h.id AS host_id, h.name, host(ue.address) AS address
    FROM endpoints e
    JOIN nodes n ON n.id = e.node_id
    JOIN hosts h ON h.id = n.host_id
    JOIN networks w ON w.id = e.network_id
    JOIN endpoints ue ON ue.node_id = h.uplink_node_id AND 'lan:' || ue.network_id = w.scope
    WHERE e.network_id IN (${sql.join(
      networkIds.map((id) => sql`${id}`),
      sql`, `,
    )}) AND n.state <> 'deleting'
    ORDER BY h.name`);
  for (const r of rows) {
    const list = result.get(r.network_id) ?? [];
    list.push({ networkId: r.network_id, hostId: r.host_id, name: r.name, address: r.address });
    result.set(r.network_id, list);
  }
  return result;
}

/**
 * Reads a host's {@link HostSnapshot} in one REPEATABLE READ, read-only transaction, so every
 * part of it (operations, networks, nodes, endpoints, ports) is of the same moment.
 */
export async function loadHostSnapshot(db: Database, hostId: string): Promise<HostSnapshot> {
  return db.transaction(
    async (tx) => {
      // Issued together: postgres.js pipelines them on the transaction's connection.
      const lanScope = lanScopeOfHost(hostId);
      const [
        operations,
        networkRows,
        nodeRows,
        ownConfigs,
        lanConfigs,
        endpoints,
        portMappings,
        overlayPeers,
      ] = await Promise.all([
        openOperationsOfHost(tx, hostId),
        tx
          .select()
          .from(networks)
          .where(or(eq(networks.hostId, hostId), eq(networks.scope, lanScope)))
          // The machine's own networks first, then its LAN's overlays.
          .orderBy(sql`${networks.hostId} IS NULL`, asc(networks.createdAt)),
        tx.select().from(nodes).where(eq(nodes.hostId, hostId)).orderBy(nodes.createdAt),
        ipamConfigsOfHost(tx, hostId),
        tx
          .select()
          .from(ipamConfigsTable)
          .where(
            inArray(
              ipamConfigsTable.networkId,
              tx.select({ id: networks.id }).from(networks).where(eq(networks.scope, lanScope)),
            ),
          )
          .orderBy(ipamConfigsTable.networkId, ipamConfigsTable.position),
        endpointsOfHost(tx, hostId),
        livePortMappingsOfHost(tx, hostId),
        overlayPeersOfHost(tx, hostId),
      ]);
      return {
        operations,
        networks: networkRows,
        ipamConfigs: [...ownConfigs, ...lanConfigs],
        nodes: nodeRows,
        endpoints,
        portMappings,
        overlayPeers,
      };
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
}
