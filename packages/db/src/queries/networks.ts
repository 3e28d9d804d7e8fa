import { and, eq, ne, or, type SQL, sql } from "drizzle-orm";
import { endpoints, hosts, networks, nodes } from "../schema";
import type { Db } from "../tx";
import { lanScopeOfHost } from "./host-snapshot";
import type { HostRow } from "./hosts";
import type { NodeRow } from "./nodes";
import { anyOf, preparedOn } from "./prepared";

export type NetworkRow = typeof networks.$inferSelect;

/** The column a reference names: only a whole id is one (seed 001 names a network `net_overlay`). */
function refColumn(ref: string): typeof networks.id | typeof networks.name {
  return /^net_[a-z2-7]{16}$/.test(ref) ? networks.id : networks.name;
}

/** Networks by id or name (see {@link findNetworks}), `hostId` a placeholder. */
function networksByRef(column: typeof networks.id | typeof networks.name): SQL | undefined {
  const hostId = sql.placeholder("hostId");
  return and(
    eq(column, sql.placeholder("ref")),
    // A machine's networks are its own and the overlays of its LAN.
    sql`(${hostId}::text IS NULL OR ${networks.hostId} = ${hostId}::text OR ${networks.scope} = ${lanScopeOfHost(sql`${hostId}::text`)})`,
  );
}

function selectNetworksByRef(db: Db, column: typeof networks.id | typeof networks.name) {
  return db.select().from(networks).where(networksByRef(column)).orderBy(networks.createdAt);
}

function selectNetworksWithHostsByRef(db: Db, column: typeof networks.id | typeof networks.name) {
  return db
    .select({ network: networks, host: hosts })
    .from(networks)
    .leftJoin(hosts, eq(hosts.id, networks.hostId))
    .where(networksByRef(column))
    .orderBy(networks.createdAt);
}

/**
 * Networks whose id or name is `ref` (a name may exist on several hosts); with `hostId`, those
 * of that machine, its LAN's overlay networks included.
 */
export async function findNetworks(db: Db, ref: string, hostId?: string): Promise<NetworkRow[]> {
  const column = refColumn(ref);
  // Every node creation resolves its networks: prepared on the pool, built once.
  const prepared = preparedOn(db, `findNetworks.${column.name}`, (pool) =>
    selectNetworksByRef(pool, column).prepare(`find_networks_by_${column.name}`),
  );
  const values = { ref, hostId: hostId ?? null };
  return prepared ? prepared.execute(values) : selectNetworksByRef(db, column).execute(values);
}

/**
 * {@link findNetworks} with each network's host (null for an overlay, which spans a LAN): a
 * node creation needs both, and one statement is one round trip less.
 */
export async function findNetworksWithHosts(
  db: Db,
  ref: string,
  hostId?: string,
): Promise<{ network: NetworkRow; host: HostRow | null }[]> {
  const column = refColumn(ref);
  const prepared = preparedOn(db, `findNetworksWithHosts.${column.name}`, (pool) =>
    selectNetworksWithHostsByRef(pool, column).prepare(`find_networks_with_hosts_by_${column.name}`),
  );
  const values = { ref, hostId: hostId ?? null };
  return prepared ? prepared.execute(values) : selectNetworksWithHostsByRef(db, column).execute(values);
}

export interface NetworkFilters {
  /** Networks whose name contains this (Docker's `name` filter). */
  nameContains?: string;
  hostId?: string;
  /** What a token reaches (visibleNetwork). */
  visible?: SQL | undefined;
  driver?: string;
  /** `key` (present) or `key=value`. */
  labels?: string[];
}

export async function listNetworks(db: Db, filters: NetworkFilters = {}): Promise<NetworkRow[]> {
  const where: SQL[] = [];
  if (filters.nameContains) {
    where.push(nameContains(networks.name, filters.nameContains));
  }
  if (filters.hostId) {
    // Overlay networks of the machine's LAN are listed for every machine on it.
    where.push(
      or(eq(networks.hostId, filters.hostId), eq(networks.scope, lanScopeOfHost(filters.hostId))) as SQL,
    );
  }
  if (filters.visible) {
    where.push(filters.visible);
  }
  if (filters.driver) {
    where.push(eq(networks.driver, filters.driver));
  }
  for (const label of filters.labels ?? []) {
    where.push(labelFilter(networks.labels, label));
  }
  return db
    .select()
    .from(networks)
    .where(where.length > 0 ? and(...where) : undefined)
    .orderBy(networks.createdAt);
}

/** The name holds `part` as it is (no pattern: `_` and `%` are themselves), as Docker's `name` filter. */
export function nameContains(column: typeof networks.name | typeof nodes.name, part: string): SQL {
  return sql`strpos(${column}, ${part}) > 0`;
}

/** `key` matches any value, `key=value` that value. */
export function labelFilter(
  column: typeof networks.labels | typeof nodes.labels | typeof hosts.labels,
  label: string,
): SQL {
  const eqAt = label.indexOf("=");
  if (eqAt < 0) {
    return sql`${column} ? ${label}`;
  }
  return sql`${column} @> ${JSON.stringify({ [label.slice(0, eqAt)]: label.slice(eqAt + 1) })}::jsonb`;
}

export interface AttachedEndpoint {
  networkId: string;
  endpointId: string;
  nodeId: string;
  nodeName: string;
  /** `deleting`: on its way out (a removal of the network may wait for it). */
  nodeState: NodeRow["state"];
  address: string;
  mac: string;
}

/** Endpoints on the given networks, with their node's name (Docker's Containers map). */
export async function endpointsOnNetworks(db: Db, networkIds: string[]): Promise<AttachedEndpoint[]> {
  if (networkIds.length === 0) {
    return [];
  }
  return db
    .select({
      networkId: endpoints.networkId,
      endpointId: endpoints.id,
      nodeId: nodes.id,
      nodeName: nodes.name,
      nodeState: nodes.state,
      address: endpoints.address,
      mac: endpoints.mac,
    })
    .from(endpoints)
    .innerJoin(nodes, eq(nodes.id, endpoints.nodeId))
    .where(anyOf(endpoints.networkId, networkIds))
    .orderBy(endpoints.address);
}

/** Whether any endpoint (of a node not yet gone) is on the network. */
export async function networkHasEndpoints(db: Db, networkId: string): Promise<boolean> {
  const rows = await db
    .select({ id: endpoints.id })
    .from(endpoints)
    .where(eq(endpoints.networkId, networkId))
    .limit(1);
  return rows.length > 0;
}

export async function setNetworkState(db: Db, id: string, state: NetworkRow["state"]): Promise<void> {
  await db.update(networks).set({ state, updatedAt: sql`now()` }).where(eq(networks.id, id));
}

export async function getNetwork(db: Db, id: string): Promise<NetworkRow | undefined> {
  const [row] = await db.select().from(networks).where(eq(networks.id, id));
  return row;
}

/**
 * User networks nothing is attached to (what `docker network prune` removes): not
 * predefined, not already being removed, without endpoints. A snapshot: callers re-check
 * each one under its row lock before removing it.
 */
export async function listUnusedNetworks(
  db: Db,
  filters: Pick<NetworkFilters, "hostId" | "labels"> = {},
): Promise<NetworkRow[]> {
  const where: SQL[] = [
    eq(networks.builtin, false),
    ne(networks.state, "deleting"),
    sql`NOT EXISTS (SELECT 1 FROM ${endpoints} e WHERE e.network_id = ${networks.id})`,
  ];
  if (filters.hostId) {
    where.push(eq(networks.hostId, filters.hostId));
  }
  for (const label of filters.labels ?? []) {
    where.push(labelFilter(networks.labels, label));
  }
  return db
    .select()
    .from(networks)
    .where(and(...where))
    .orderBy(networks.createdAt);
}
