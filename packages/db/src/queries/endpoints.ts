import { and, eq, ne } from "drizzle-orm";
import { endpoints, nodes } from "../schema";
import type { Db } from "../tx";
import { type JsonRow, rowOfJson } from "./json-rows";
import type { EndpointRow, NodeRow } from "./nodes";
import { clientOf } from "./prepared";

/**
 * Locks a node's row and returns it as it is now. Connect, disconnect, removal and
 * `container:` joins take this lock, so a node cannot lose its sandbox (or gain an
 * interface twice) in a race.
 */
export async function lockNode(db: Db, id: string): Promise<NodeRow | undefined> {
  const [row] = await db.select().from(nodes).where(eq(nodes.id, id)).for("update");
  return row;
}

/** A node locked for removal, with what the removal needs to know of it. */
export interface NodeForRemoval extends NodeRow {
  /** Names of the nodes (not being removed) that live in its namespace (mode `container:`). */
  sharingNames: string[];
  /** Overlay networks it has an endpoint on. */
  overlayIds: string[];
}

/**
 * The nodes `ref` (an id or a name) names, locked like {@link lockNode}, each with its
 * namespace's sharers and its overlays: what a removal reads, in one statement.
 */
export async function lockNodesForRemoval(db: Db, ref: string): Promise<NodeForRemoval[]> {
  // Every removal runs it: a statement prepared once per connection, the row as one document.
  const pg = clientOf(db);
  const rows = await pg<{ node: JsonRow; sharing_names: string[]; overlay_ids: string[] }[]>`
    SELECT to_json(n) AS node,
      ARRAY(SELECT s.name FROM nodes s
        WHERE s.netns_owner_id = n.id AND s.state <> 'deleting' ORDER BY s.created_at) AS sharing_names,
      ARRAY(SELECT e.network_id FROM endpoints e JOIN networks w ON w.id = e.network_id
        WHERE e.node_id = n.id AND w.driver = 'overlay' ORDER BY e.network_id) AS overlay_ids
    FROM nodes n
    WHERE ${ref.startsWith("nod_") ? pg`n.id = ${ref}` : pg`n.name = ${ref}`}
    ORDER BY n.created_at
    FOR UPDATE OF n`;
  return rows.map((r) => ({
    ...rowOfJson(nodes, r.node),
    sharingNames: r.sharing_names,
    overlayIds: r.overlay_ids,
  }));
}

/** The node's endpoint on a network, if it has one. */
export async function findEndpoint(
  db: Db,
  nodeId: string,
  networkId: string,
): Promise<EndpointRow | undefined> {
  const [row] = await db
    .select()
    .from(endpoints)
    .where(and(eq(endpoints.nodeId, nodeId), eq(endpoints.networkId, networkId)));
  return row;
}

/** Removes an endpoint; its address allocation goes with it (cascade), so the address is free again. */
export async function deleteEndpoint(db: Db, id: string): Promise<void> {
  await db.delete(endpoints).where(eq(endpoints.id, id));
}

/** Removes every endpoint on a network (forced removal) and returns the nodes that had one. */
export async function deleteEndpointsOfNetwork(db: Db, networkId: string): Promise<string[]> {
  const rows = await db
    .delete(endpoints)
    .where(eq(endpoints.networkId, networkId))
    .returning({ nodeId: endpoints.nodeId });
  return [...new Set(rows.map((r) => r.nodeId))].sort();
}

/** Nodes (not being removed) that share `ownerId`'s network namespace (mode `container:`). */
export async function nodesSharingNetns(db: Db, ownerId: string): Promise<NodeRow[]> {
  return db
    .select()
    .from(nodes)
    .where(and(eq(nodes.netnsOwnerId, ownerId), ne(nodes.state, "deleting")))
    .orderBy(nodes.createdAt);
}

/**
 * Takes the next interface index of a node (Docker's per-sandbox counter: it never goes
 * back, so a reconnect after a disconnect gets a new ethN). Never below the highest
 * index in use + 1. Call it holding {@link lockNode}.
 */
export async function takeNextIfIndex(db: Db, node: NodeRow, inUse: readonly number[]): Promise<number> {
  const index = Math.max(node.nextIfIndex, ...inUse.map((i) => i + 1));
  await db
    .update(nodes)
    .set({ nextIfIndex: index + 1 })
    .where(eq(nodes.id, node.id));
  return index;
}
