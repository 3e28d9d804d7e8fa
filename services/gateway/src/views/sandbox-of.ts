import { type Db, type NodeRow, schema } from "@labnet/db";
import { inArray } from "drizzle-orm";

/** Where a node's networking lives, as views show it. */
export interface NodeSandbox {
  /** Docker's SandboxKey: the node's namespace, the host's (mode host) or the shared node's. */
  sandboxKey: string;
  /** The node whose endpoints the node has: itself, or the node whose namespace it shares. */
  endpointsOf: string;
}

/**
 * Resolves the sandbox of each node in one query per table: its own netns, the host's
 * namespace for mode `host` (`hosts.netns_path`), or the namespace owner's for mode
 * `container:` (owners never chain: a join passes on its owner's owner).
 */
export async function sandboxesOf(db: Db, rows: readonly NodeRow[]): Promise<Map<string, NodeSandbox>> {
  const ownerIds = [...new Set(rows.flatMap((r) => (r.netnsOwnerId ? [r.netnsOwnerId] : [])))];
  const owners =
    ownerIds.length > 0 ? await db.select().from(schema.nodes).where(inArray(schema.nodes.id, ownerIds)) : [];
  const ownerOf = new Map(owners.map((o) => [o.id, o]));
  const hostIds = [...new Set([...rows, ...owners].filter((r) => !r.netns).map((r) => r.hostId))];
  const hosts =
    hostIds.length > 0
      ? await db
          .select({ id: schema.hosts.id, netnsPath: schema.hosts.netnsPath })
          .from(schema.hosts)
          .where(inArray(schema.hosts.id, hostIds))
      : [];
  const hostPath = new Map(hosts.map((h) => [h.id, h.netnsPath ?? ""]));
  const keyOf = (node: NodeRow): string =>
    node.netns ? `/run/netns/${node.netns}` : (hostPath.get(node.hostId) ?? "");
  return new Map(
    rows.map((row) => {
      const owner = row.netnsOwnerId ? ownerOf.get(row.netnsOwnerId) : undefined;
      return [row.id, { sandboxKey: keyOf(owner ?? row), endpointsOf: owner?.id ?? row.id }];
    }),
  );
}
