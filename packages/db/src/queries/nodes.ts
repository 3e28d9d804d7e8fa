import { and, eq, inArray, ne, type SQL, sql } from "drizzle-orm";
import { endpoints, networks, nodes } from "../schema";
import type { Db } from "../tx";
import { labelFilter } from "./networks";

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
  name?: string;
  hostId?: string;
  /** Network id: nodes with an endpoint on it. */
  networkId?: string;
  labels?: string[];
}

export async function listNodes(db: Db, filters: NodeFilters = {}): Promise<NodeRow[]> {
  const where: SQL[] = [];
  if (filters.name) {
    where.push(eq(nodes.name, filters.name));
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
  return db
    .select()
    .from(nodes)
    .where(where.length > 0 ? and(...where) : undefined)
    .orderBy(nodes.createdAt);
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

/** Endpoints of nodes in attach order, with what the kernel and the views need of their network. */
export async function endpointsOfNodes(db: Db, nodeIds: string[]): Promise<NodeEndpoint[]> {
  if (nodeIds.length === 0) {
    return [];
  }
  const rows = await db
    .select({
      endpoint: endpoints,
      networkName: networks.name,
      bridgeName: networks.bridgeName,
      mtu: networks.mtu,
      internal: networks.internal,
      gateway: sql<string | null>`(
        SELECT host(c.gateway) FROM ipam_configs c
        WHERE c.network_id = ${endpoints.networkId} AND c.subnet >>= host(${endpoints.address})::inet
        ORDER BY c.position LIMIT 1)`,
    })
    .from(endpoints)
    .innerJoin(networks, eq(networks.id, endpoints.networkId))
    .where(inArray(endpoints.nodeId, nodeIds))
    .orderBy(endpoints.nodeId, endpoints.ifIndex);
  return rows.map((r) => ({
    ...r.endpoint,
    networkName: r.networkName,
    bridgeName: r.bridgeName,
    mtu: r.mtu,
    internal: r.internal,
    gateway: r.gateway,
  }));
}

export async function setNodeState(db: Db, id: string, state: NodeRow["state"]): Promise<void> {
  await db.update(nodes).set({ state, updatedAt: sql`now()` }).where(eq(nodes.id, id));
}

/** Nodes of a host the executor must build (everything not being removed). */
export async function liveNodesOfHost(db: Db, hostId: string): Promise<NodeRow[]> {
  return db
    .select()
    .from(nodes)
    .where(and(eq(nodes.hostId, hostId), ne(nodes.state, "deleting")))
    .orderBy(nodes.createdAt);
}

export async function getNode(db: Db, id: string): Promise<NodeRow | undefined> {
  const [row] = await db.select().from(nodes).where(eq(nodes.id, id));
  return row;
}
