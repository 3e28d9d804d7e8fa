/**
 * The host port ledger. The collision rule lives in the database (exclusion constraint
 * `port_mappings_no_collision`: same host, protocol and port with overlapping bind
 * addresses), so these functions never check-then-insert: they insert with
 * `ON CONFLICT DO NOTHING` and read the answer. A concurrent transaction holding the same
 * port makes the insert wait for its outcome, so two callers never both get one port.
 */

import { and, asc, eq, inArray, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { newId } from "../ids";
import { nodes, type PortProtocol, portMappings } from "../schema";
import type { Db } from "../tx";
import { anyOf, clientOf } from "./prepared";

export type PortMappingRow = typeof portMappings.$inferSelect;

/** A ledger row with the name of the node holding it. */
export interface PortMappingWithNode extends PortMappingRow {
  nodeName: string;
  /** A virtual machine's mapping: the lab host's port that forwards to it. */
  external?: { hostId: string; hostPort: number };
}

/** Every address of the host, as requests and views spell it. */
const ANY_ADDRESS = "0.0.0.0";

/**
 * The ledger's form of a bind address: `0.0.0.0/0` for every address (so it overlaps every
 * other bind), else the one address as a /32.
 */
export function bindCidr(hostIp: string): string {
  return hostIp === ANY_ADDRESS ? "0.0.0.0/0" : `${hostIp}/32`;
}

/** The request/view form of a stored bind: `0.0.0.0` or the address. */
export function hostIpOfBind(bind: string): string {
  return bind === "0.0.0.0/0" ? ANY_ADDRESS : (bind.split("/")[0] ?? bind);
}

export interface NewPortMapping {
  hostId: string;
  nodeId: string;
  protocol: PortProtocol;
  /** `0.0.0.0` or one IPv4 address. */
  hostIp: string;
  hostPort: number;
  containerPort: number;
  random: boolean;
  /** On a lab host: the virtual machine's mapping this one forwards to. */
  forwardsId?: string | null;
}

/**
 * Records mappings, each unless it collides. Returns the rows that were recorded; a row
 * missing from the answer collided (see {@link findCollidingMappings} for with what).
 * Rows are inserted in the given order: callers sort them so that two transactions
 * taking overlapping ports queue behind each other instead of deadlocking.
 */
export async function tryInsertPortMappings(db: Db, rows: NewPortMapping[]): Promise<PortMappingRow[]> {
  if (rows.length === 0) {
    return [];
  }
  return db
    .insert(portMappings)
    .values(
      rows.map((row) => ({
        id: newId("portMapping"),
        hostId: row.hostId,
        nodeId: row.nodeId,
        protocol: row.protocol,
        bind: bindCidr(row.hostIp),
        hostPort: row.hostPort,
        containerPort: row.containerPort,
        forwardsId: row.forwardsId ?? null,
        random: row.random,
      })),
    )
    .onConflictDoNothing()
    .returning();
}

/**
 * Records one mapping unless it collides (then undefined), like {@link tryInsertPortMappings}
 * for a single row, in a statement prepared per connection: a random port is tried this way
 * before anything lists the range, and nearly always fits at the first try.
 */
export async function tryInsertPortMapping(db: Db, row: NewPortMapping): Promise<PortMappingRow | undefined> {
  const id = newId("portMapping");
  const bind = bindCidr(row.hostIp);
  // Timestamps arrive as text: drizzle's driver turns postgres.js' date parsing off.
  const [inserted] = await clientOf(db)<{ created_at: string }[]>`
    INSERT INTO port_mappings (id, host_id, node_id, protocol, bind, host_port, container_port, random, forwards_id)
    VALUES (${id}, ${row.hostId}, ${row.nodeId}, ${row.protocol}, ${bind}::cidr, ${row.hostPort}::int,
      ${row.containerPort}::int, ${row.random}::boolean, ${row.forwardsId ?? null})
    ON CONFLICT DO NOTHING
    RETURNING created_at`;
  if (!inserted) {
    return undefined;
  }
  return {
    id,
    hostId: row.hostId,
    nodeId: row.nodeId,
    protocol: row.protocol,
    bind,
    hostPort: row.hostPort,
    containerPort: row.containerPort,
    random: row.random,
    forwardsId: row.forwardsId ?? null,
    createdAt: new Date(inserted.created_at),
  };
}

export interface FreePortQuery {
  hostId: string;
  protocol: PortProtocol;
  hostIp: string;
  /** Inclusive range to choose from. */
  start: number;
  end: number;
  limit: number;
  /** `random`: any free ports, shuffled (`-P`); `ascending`: the lowest free ones (an explicit range). */
  order: "random" | "ascending";
}

/**
 * Ports of [start, end] that no mapping of the host holds for this protocol and an
 * overlapping bind, as far as committed rows (and the caller's own) show. Candidates only:
 * a concurrent transaction may take one first, which the insert then reports.
 */
export async function findFreeHostPorts(db: Db, query: FreePortQuery): Promise<number[]> {
  const order = query.order === "random" ? sql`random()` : sql`p`;
  const rows = await db.execute<{ port: number }>(sql`
    SELECT p AS port
    FROM generate_series(${query.start}::int, ${query.end}::int) AS p
    WHERE p NOT IN (
      SELECT m.host_port FROM ${portMappings} m
      WHERE m.host_id = ${query.hostId}
        AND m.protocol = ${query.protocol}
        AND m.bind && ${bindCidr(query.hostIp)}::cidr
        AND m.host_port BETWEEN ${query.start}::int AND ${query.end}::int
    )
    ORDER BY ${order}
    LIMIT ${query.limit}`);
  return rows.map((r) => Number(r.port));
}

/** The mappings a new one would collide with: same host, protocol and port, overlapping bind. */
export async function findCollidingMappings(
  db: Db,
  query: { hostId: string; protocol: PortProtocol; hostIp: string; hostPort: number },
): Promise<PortMappingWithNode[]> {
  return withNodeNames(db, [
    eq(portMappings.hostId, query.hostId),
    eq(portMappings.protocol, query.protocol),
    eq(portMappings.hostPort, query.hostPort),
    sql`${portMappings.bind} && ${bindCidr(query.hostIp)}::cidr`,
  ]);
}

export interface PortLedgerFilters {
  nodeId?: string;
  protocol?: PortProtocol;
  hostPort?: number;
  containerPort?: number;
  /** `0.0.0.0` lists mappings on every address only; an address, those bound to it exactly. */
  hostIp?: string;
  /** Mapping ids. */
  ids?: string[];
}

/** The ledger of a host, ordered by protocol, port and bind. */
export async function listHostPortMappings(
  db: Db,
  hostId: string,
  filters: PortLedgerFilters = {},
): Promise<PortMappingWithNode[]> {
  return withNodeNames(db, [eq(portMappings.hostId, hostId), ...filterConditions(filters)]);
}

/** Mappings of one node matching `filters`, ordered by protocol, port and bind. */
export async function listNodePortMappings(
  db: Db,
  nodeId: string,
  filters: Omit<PortLedgerFilters, "nodeId"> = {},
): Promise<PortMappingWithNode[]> {
  return withNodeNames(db, [eq(portMappings.nodeId, nodeId), ...filterConditions(filters)]);
}

/** Mappings of several nodes (for views), ordered by protocol, port and bind. */
export async function portMappingsOfNodes(db: Db, nodeIds: string[]): Promise<PortMappingRow[]> {
  if (nodeIds.length === 0) {
    return [];
  }
  return db
    .select()
    .from(portMappings)
    .where(anyOf(portMappings.nodeId, nodeIds))
    .orderBy(asc(portMappings.protocol), asc(portMappings.hostPort), asc(portMappings.bind));
}

/** Releases mappings; returns how many went. */
export async function deletePortMappings(db: Db, ids: string[]): Promise<number> {
  if (ids.length === 0) {
    return 0;
  }
  const deleted = await db
    .delete(portMappings)
    .where(anyOf(portMappings.id, ids))
    .returning({ id: portMappings.id });
  return deleted.length;
}

function filterConditions(filters: PortLedgerFilters): SQL[] {
  const where: SQL[] = [];
  if (filters.nodeId !== undefined) {
    where.push(eq(portMappings.nodeId, filters.nodeId));
  }
  if (filters.protocol !== undefined) {
    where.push(eq(portMappings.protocol, filters.protocol));
  }
  if (filters.hostPort !== undefined) {
    where.push(eq(portMappings.hostPort, filters.hostPort));
  }
  if (filters.containerPort !== undefined) {
    where.push(eq(portMappings.containerPort, filters.containerPort));
  }
  if (filters.hostIp !== undefined) {
    where.push(sql`${portMappings.bind} = ${bindCidr(filters.hostIp)}::cidr`);
  }
  if (filters.ids !== undefined) {
    where.push(inArray(portMappings.id, filters.ids.length > 0 ? filters.ids : [""]));
  }
  return where;
}

async function withNodeNames(db: Db, where: SQL[]): Promise<PortMappingWithNode[]> {
  const forward = alias(portMappings, "forward");
  const rows = await db
    .select({
      mapping: portMappings,
      nodeName: nodes.name,
      forwardHostId: forward.hostId,
      forwardHostPort: forward.hostPort,
    })
    .from(portMappings)
    .innerJoin(nodes, eq(nodes.id, portMappings.nodeId))
    .leftJoin(forward, eq(forward.forwardsId, portMappings.id))
    .where(and(...where))
    .orderBy(asc(portMappings.protocol), asc(portMappings.hostPort), asc(portMappings.bind));
  return rows.map((r) => ({
    ...r.mapping,
    nodeName: r.nodeName,
    ...(r.forwardHostId !== null && r.forwardHostPort !== null
      ? { external: { hostId: r.forwardHostId, hostPort: r.forwardHostPort } }
      : {}),
  }));
}

/**
 * Releases the lab host's forwards of a machine node's mappings (see `forwardMachinePorts`);
 * returns the uplink nodes they were on. Every node removal runs it (nearly always finding
 * none): prepared once per connection.
 */
export async function deleteForwardsOfNode(
  db: Db,
  nodeId: string,
): Promise<{ nodeId: string; hostId: string }[]> {
  const rows = await clientOf(db)<{ node_id: string; host_id: string }[]>`
    DELETE FROM port_mappings
    WHERE forwards_id IN (SELECT m.id FROM port_mappings m WHERE m.node_id = ${nodeId})
    RETURNING node_id, host_id`;
  return rows.map((r) => ({ nodeId: r.node_id, hostId: r.host_id }));
}
