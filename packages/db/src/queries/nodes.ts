import { and, eq, inArray, type SQL } from "drizzle-orm";
import type { PendingQuery, Row } from "postgres";
import { endpoints, nodes, type OperationState, type PortProtocol } from "../schema";
import type { Db } from "../tx";
import { type JsonRow, rowOfJson } from "./json-rows";
import { labelFilter, nameContains } from "./networks";
import { clientOf, type SqlClient } from "./prepared";

export type NodeRow = typeof nodes.$inferSelect;
export type EndpointRow = typeof endpoints.$inferSelect;

export async function findNodes(db: Db, ref: string, hostId?: string): Promise<NodeRow[]> {
  const match = ref.startsWith("nod_") ? eq(nodes.id, ref) : eq(nodes.name, ref);
  return db
    .select()
    .from(nodes)
    .where(hostId ? and(match, eq(nodes.hostId, hostId)) : match)
    .orderBy(nodes.createdAt);
}

export interface NodeFilters {
  /** Nodes whose name contains this (Docker's `name` filter). */
  nameContains?: string;
  hostId?: string;
  /** Only nodes on these machines (what a token reaches). */
  hostIds?: readonly string[];
  /** Network id: nodes with an endpoint on it. */
  networkId?: string;
  labels?: string[];
}

export async function listNodes(db: Db, filters: NodeFilters = {}): Promise<NodeRow[]> {
  const where = nodeFilterConditions(db, filters);
  return db
    .select()
    .from(nodes)
    .where(where.length > 0 ? and(...where) : undefined)
    .orderBy(nodes.createdAt);
}

function nodeFilterConditions(db: Db, filters: NodeFilters): SQL[] {
  const where: SQL[] = [];
  if (filters.nameContains) {
    where.push(nameContains(nodes.name, filters.nameContains));
  }
  if (filters.hostId) {
    where.push(eq(nodes.hostId, filters.hostId));
  }
  if (filters.networkId) {
    where.push(
      inArray(
        nodes.id,
        db.select({ id: endpoints.nodeId }).from(endpoints).where(eq(endpoints.networkId, filters.networkId)),
      ),
    );
  }
  for (const label of filters.labels ?? []) {
    where.push(labelFilter(nodes.labels, label));
  }
  return where;
}

export interface NodeEndpoint extends EndpointRow {
  networkName: string;
  bridgeName: string;
  mtu: number;
  /** The network is internal: no egress, so no default route through it. */
  internal: boolean;
  /** Gateway of the IPAM config the address belongs to. */
  gateway: string | null;
}

/** Every removal runs it: prepared once per connection. */
export async function setNodeState(db: Db, id: string, state: NodeRow["state"]): Promise<void> {
  await clientOf(db)`UPDATE nodes SET state = ${state}, updated_at = now() WHERE id = ${id}`;
}

export async function getNode(db: Db, id: string): Promise<NodeRow | undefined> {
  const [row] = await db.select().from(nodes).where(eq(nodes.id, id));
  return row;
}

/** An endpoint as node views show it (Docker's NetworkSettings.Networks entry). */
export interface NodeDetailEndpoint {
  id: string;
  networkId: string;
  networkName: string;
  ifIndex: number;
  /** With the subnet's prefix: `172.18.0.2/16`. */
  address: string;
  mac: string;
  aliases: string[];
  /** The network is internal (no gateway for the node). */
  internal: boolean;
  /** Gateway of the IPAM config the address belongs to. */
  gateway: string | null;
}

/** A published port as node views show it. */
export interface NodeDetailPort {
  protocol: PortProtocol;
  /** `0.0.0.0/0` or one address as a /32. */
  bind: string;
  hostPort: number;
  containerPort: number;
}

/** Everything a node view shows, read in one statement. */
export interface NodeDetails {
  node: NodeRow;
  /**
   * Docker's SandboxKey: `/run/netns/<netns>` of the node (or, in mode `container:`, of the
   * node whose namespace it shares), the host's own namespace path in mode `host`, or "".
   */
  sandboxKey: string;
  /** Endpoints of the node whose namespace it is (itself, or the shared one's), in attach order. */
  endpoints: NodeDetailEndpoint[];
  /** The node's mappings by protocol, host port and bind. */
  portMappings: NodeDetailPort[];
  /** The newest operation on the node. */
  operation: { id: string; state: OperationState } | null;
}

/** {@link NodeDetails} as the statement below sends it: JSON, so timestamps are text. */
type NodeDetailsJson = Omit<NodeDetails, "node"> & { node: JsonRow };

/**
 * Reads node details in one statement, one JSON document per node: its columns, its sandbox
 * key, its endpoints (of the namespace owner in mode `container:`), ports and newest
 * operation. One document per row rather than a column per field, because the client's cost
 * is per value received (about 1 µs each, 19 values a node), not per byte; the statement is
 * prepared once per connection and `where` picks the nodes.
 */
async function selectNodeDetails(
  db: Db,
  where: (pg: SqlClient) => PendingQuery<Row[]>,
): Promise<NodeDetails[]> {
  const pg = clientOf(db);
  const rows = await pg<{ details: NodeDetailsJson }[]>`
    SELECT json_build_object(
      'node', to_json(n),
      'sandboxKey', coalesce('/run/netns/' || (CASE WHEN o.id IS NULL THEN n.netns ELSE o.netns END), h.netns_path, ''),
      'endpoints', coalesce((
        SELECT json_agg(json_build_object(
          'id', e.id, 'networkId', e.network_id, 'networkName', w.name, 'ifIndex', e.if_index,
          'address', e.address::text, 'mac', e.mac::text, 'aliases', e.aliases, 'internal', w.internal,
          -- Subnets of a scope never overlap: at most one config holds the address.
          'gateway', (SELECT host(c.gateway) FROM ipam_configs c
                      WHERE c.network_id = e.network_id AND c.subnet >>= e.address LIMIT 1)
        ) ORDER BY e.if_index)
        FROM endpoints e JOIN networks w ON w.id = e.network_id
        WHERE e.node_id = coalesce(o.id, n.id)), '[]'::json),
      'portMappings', coalesce((
        SELECT json_agg(json_build_object(
          'protocol', m.protocol, 'bind', m.bind::text, 'hostPort', m.host_port, 'containerPort', m.container_port
        ) ORDER BY m.protocol, m.host_port, m.bind)
        FROM port_mappings m WHERE m.node_id = n.id), '[]'::json),
      'operation', (
        SELECT json_build_object('id', op.id, 'state', op.state) FROM operations op
        WHERE op.target_id = n.id ORDER BY op.created_at DESC LIMIT 1)
    ) AS details
    FROM nodes n
    LEFT JOIN nodes o ON o.id = n.netns_owner_id
    LEFT JOIN hosts h ON h.id = coalesce(o.host_id, n.host_id)
    WHERE ${where(pg)}
    ORDER BY n.created_at`;
  return rows.map(({ details }) => ({ ...details, node: rowOfJson(nodes, details.node) }));
}

/** Details of the nodes with these ids, oldest first. */
export async function nodeDetailsByIds(db: Db, ids: readonly string[]): Promise<NodeDetails[]> {
  const [only] = ids;
  if (only === undefined) {
    return [];
  }
  // One id is its own statement: with `= ANY($1)` the planner, not knowing the array's
  // length, guesses several rows and so plans every call anew (about 0.5 ms of Postgres CPU);
  // with `= $1` it settles on the generic plan after a few calls.
  return ids.length === 1
    ? selectNodeDetails(db, (pg) => pg`n.id = ${only}`)
    : selectNodeDetails(db, (pg) => pg`n.id = ANY(${[...ids]}::text[])`);
}

/** Details of the nodes a reference names: the one with that id (`nod_...`), or all with that name. */
export async function nodeDetailsByRef(db: Db, ref: string): Promise<NodeDetails[]> {
  return ref.startsWith("nod_")
    ? nodeDetailsByIds(db, [ref])
    : selectNodeDetails(db, (pg) => pg`n.name = ${ref}`);
}

/** Details of the nodes matching `filters` (see {@link listNodes}), oldest first. */
export async function listNodeDetails(db: Db, filters: NodeFilters = {}): Promise<NodeDetails[]> {
  return selectNodeDetails(db, (pg) => {
    // Each combination of filters is its own statement text, prepared once per connection.
    let where = pg`TRUE`;
    if (filters.nameContains) {
      where = pg`${where} AND strpos(n.name, ${filters.nameContains}) > 0`;
    }
    if (filters.hostId) {
      where = pg`${where} AND n.host_id = ${filters.hostId}`;
    }
    if (filters.hostIds) {
      where = pg`${where} AND n.host_id = ANY(${filters.hostIds})`;
    }
    if (filters.networkId) {
      where = pg`${where} AND EXISTS (SELECT 1 FROM endpoints x WHERE x.node_id = n.id AND x.network_id = ${filters.networkId})`;
    }
    for (const label of filters.labels ?? []) {
      const eqAt = label.indexOf("=");
      where =
        eqAt < 0
          ? pg`${where} AND n.labels ? ${label}`
          : pg`${where} AND n.labels @> ${JSON.stringify({ [label.slice(0, eqAt)]: label.slice(eqAt + 1) })}::jsonb`;
    }
    return where;
  });
}

/** A node to record; what the table defaults (timestamps, state `pending`) is left out. */
export type NewNode = Omit<NodeRow, "state" | "createdAt" | "updatedAt"> & { state?: "pending" | "created" };

/**
 * Records a node (state `pending` unless `created`, see NodeState) and returns its row. One statement prepared per
 * connection, as every node creation runs it; `nodes_host_name_key` refuses a name taken
 * on the host.
 */
export async function insertNode(db: Db, node: NewNode): Promise<NodeRow> {
  // Timestamps arrive as text: drizzle's driver turns postgres.js' date parsing off.
  const [row] = await clientOf(db)<{ state: NodeRow["state"]; created_at: string; updated_at: string }[]>`
    INSERT INTO nodes (id, name, host_id, network_mode, netns, netns_owner_id, next_if_index, hostname,
      dns, extra_hosts, exposed_ports, publish_all, labels, state)
    VALUES (${node.id}, ${node.name}, ${node.hostId}, ${node.networkMode}, ${node.netns}, ${node.netnsOwnerId},
      ${node.nextIfIndex}::int, ${node.hostname}, ${JSON.stringify(node.dns)}::jsonb,
      ${JSON.stringify(node.extraHosts)}::jsonb, ${node.exposedPorts}::text[], ${node.publishAll}::boolean,
      ${JSON.stringify(node.labels)}::jsonb, ${node.state ?? "pending"})
    RETURNING state, created_at, updated_at`;
  if (!row) {
    throw new Error("inserting a node returned no row");
  }
  return {
    ...node,
    state: row.state,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}
