import { type SQL, sql } from "drizzle-orm";
import type { Database } from "../client";
import { endpoints, ipamConfigs, networks, nodes, operations, portMappings } from "../schema";
import type { Db } from "../tx";
import type { IpamConfigRow } from "./ipam";
import { type JsonRow, rowOfJson } from "./json-rows";
import type { NetworkRow } from "./networks";
import type { EndpointRow, NodeEndpoint, NodeRow } from "./nodes";
import type { OperationRow } from "./operations";
import type { PortMappingRow } from "./port-ledger";
import { anyOf, clientOf } from "./prepared";

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
 * (NULL for a machine on no LAN: a lab host): the database's `labnet_lan_scope` (migration
 * 0021), which the snapshot's statement calls too.
 */
export function lanScopeOfHost(hostId: SQL | string): SQL {
  return sql`labnet_lan_scope(${hostId})`;
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
    WHERE ${anyOf(sql`e.network_id`, networkIds)} AND n.state <> 'deleting'
    ORDER BY h.name`);
  for (const r of rows) {
    const list = result.get(r.network_id) ?? [];
    list.push({ networkId: r.network_id, hostId: r.host_id, name: r.name, address: r.address });
    result.set(r.network_id, list);
  }
  return result;
}

/**
 * Reads a host's {@link HostSnapshot} in one statement, so every part of it (operations,
 * networks, nodes, endpoints, ports) is of the same moment: all of a statement's subqueries
 * read one snapshot, at any isolation level (labnet_lan_scope is STABLE, so it reads the
 * statement's too). No transaction around it: BEGIN, SET TRANSACTION and COMMIT would be three
 * round trips more on every converge. Prepared once per connection, answering one JSON
 * document per part: the client's cost is per value received, and drizzle would build and
 * map each of eight queries every time (about 5 ms for a small host).
 */
export async function loadHostSnapshot(db: Database, hostId: string): Promise<HostSnapshot> {
  const snapshot = await readHostSnapshot(db, hostId, false);
  if (!snapshot) {
    throw new Error("the host snapshot statement answered no row");
  }
  return snapshot;
}

/**
 * The {@link HostSnapshot} of a host with open operations; undefined, having read nothing else,
 * when it has none (a converge asked for by a job whose operations an earlier converge served).
 */
export function loadHostSnapshotIfOpen(db: Database, hostId: string): Promise<HostSnapshot | undefined> {
  return readHostSnapshot(db, hostId, true);
}

async function readHostSnapshot(
  db: Database,
  hostId: string,
  ifOpen: boolean,
): Promise<HostSnapshot | undefined> {
  const sql = clientOf(db);
  // The select list of a row the WHERE drops is never computed: no part of the snapshot is read.
  const open = ifOpen
    ? sql`WHERE EXISTS (SELECT 1 FROM operations
        WHERE host_id = ${hostId} AND state IN ('queued', 'running'))`
    : sql``;
  const [row] = await sql<SnapshotJson[]>`
    WITH lan AS (SELECT labnet_lan_scope(${hostId}) AS scope),
    own_nodes AS (SELECT id FROM nodes WHERE host_id = ${hostId})
    SELECT
      (SELECT coalesce(json_agg(o ORDER BY o.created_at), '[]') FROM operations o
        WHERE o.host_id = ${hostId} AND o.state IN ('queued', 'running')) AS operations,
      -- The machine's own networks first, then its LAN's overlays.
      (SELECT coalesce(json_agg(w ORDER BY w.host_id IS NULL, w.created_at), '[]') FROM networks w
        WHERE w.host_id = ${hostId} OR w.scope = (SELECT scope FROM lan)) AS networks,
      (SELECT coalesce(json_agg(n ORDER BY n.created_at), '[]') FROM nodes n
        WHERE n.host_id = ${hostId}) AS nodes,
      (SELECT coalesce(json_agg(c ORDER BY c.network_id, c.position), '[]') FROM ipam_configs c
        WHERE c.network_id IN (SELECT id FROM networks WHERE host_id = ${hostId})) AS own_configs,
      (SELECT coalesce(json_agg(c ORDER BY c.network_id, c.position), '[]') FROM ipam_configs c
        WHERE c.network_id IN (SELECT id FROM networks WHERE scope = (SELECT scope FROM lan))) AS lan_configs,
      (SELECT coalesce(json_agg(json_build_object(
          'endpoint', e, 'networkName', w.name, 'bridgeName', w.bridge_name, 'mtu', w.mtu,
          'internal', w.internal,
          'gateway', (SELECT host(c.gateway) FROM ipam_configs c
            WHERE c.network_id = e.network_id AND c.subnet >>= host(e.address)::inet
            ORDER BY c.position LIMIT 1)
        ) ORDER BY e.node_id, e.if_index), '[]')
        FROM endpoints e JOIN networks w ON w.id = e.network_id
        WHERE e.node_id IN (SELECT id FROM own_nodes)) AS endpoints,
      (SELECT coalesce(json_agg(m ORDER BY m.created_at, m.id), '[]') FROM port_mappings m
        JOIN nodes n ON n.id = m.node_id
        WHERE m.host_id = ${hostId} AND n.state <> 'deleting') AS port_mappings,
      (SELECT coalesce(json_agg(json_build_object(
          'networkId', e.network_id, 'endpointId', e.id, 'hostId', n.host_id, 'mac', lower(e.mac::text),
          'address', host(e.address), 'vtep', host(ue.address)
        ) ORDER BY e.network_id, e.mac), '[]')
        FROM networks w
        JOIN endpoints e ON e.network_id = w.id
        JOIN nodes n ON n.id = e.node_id
        JOIN hosts h ON h.id = n.host_id
        JOIN endpoints ue ON ue.node_id = h.uplink_node_id AND 'lan:' || ue.network_id = w.scope
        WHERE w.driver = 'overlay' AND w.scope = (SELECT scope FROM lan)
          AND n.host_id <> ${hostId} AND n.state NOT IN ('deleting', 'failed')) AS overlay_peers
    ${open}`;
  if (!row) {
    return undefined;
  }
  return {
    operations: row.operations.map((o) => rowOfJson(operations, o)),
    networks: row.networks.map((w) => rowOfJson(networks, w)),
    ipamConfigs: [...row.own_configs, ...row.lan_configs].map((c) => rowOfJson(ipamConfigs, c)),
    nodes: row.nodes.map((n) => rowOfJson(nodes, n)),
    endpoints: row.endpoints.map(({ endpoint, ...network }) => ({
      ...rowOfJson(endpoints, endpoint),
      ...network,
    })),
    portMappings: row.port_mappings.map((m) => rowOfJson(portMappings, m)),
    overlayPeers: row.overlay_peers,
  };
}

interface SnapshotJson {
  operations: JsonRow[];
  networks: JsonRow[];
  nodes: JsonRow[];
  own_configs: JsonRow[];
  lan_configs: JsonRow[];
  endpoints: ({ endpoint: JsonRow } & Omit<NodeEndpoint, keyof EndpointRow>)[];
  port_mappings: JsonRow[];
  overlay_peers: OverlayPeer[];
}
