import { asc, eq, inArray, sql } from "drizzle-orm";
import type { AllocationKind } from "../schema";
import { allocations, endpoints, ipamConfigs, networks, nodes } from "../schema";
import type { Db } from "../tx";

export type IpamConfigRow = typeof ipamConfigs.$inferSelect;

/**
 * Locks networks for address allocation, in id order so that two transactions attaching
 * to the same networks cannot deadlock. Allocation and network removal both take this
 * lock, so a network cannot lose its last check-in race against a new endpoint.
 */
export async function lockNetworks(db: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) {
    return;
  }
  await db
    .select({ id: networks.id })
    .from(networks)
    .where(inArray(networks.id, [...ids].sort()))
    .orderBy(asc(networks.id))
    .for("update");
}

export async function ipamConfigsOf(db: Db, networkIds: string[]): Promise<IpamConfigRow[]> {
  if (networkIds.length === 0) {
    return [];
  }
  return db
    .select()
    .from(ipamConfigs)
    .where(inArray(ipamConfigs.networkId, networkIds))
    .orderBy(ipamConfigs.networkId, ipamConfigs.position);
}

/**
 * The lowest free address in [first, last] of a network (Docker's order: released
 * addresses are reused, lowest first). One statement over the gaps of the ledger, so it
 * stays cheap on a /16. Call it holding `lockNetworks`; the primary key of `allocations`
 * still rejects a duplicate if anyone does not.
 */
export async function nextFreeAddress(
  db: Db,
  networkId: string,
  range: { first: string; last: string },
): Promise<string | undefined> {
  const rows = await db.execute<{ address: string }>(sql`
    SELECT host(c.candidate) AS address
    FROM (
      SELECT ${range.first}::inet AS candidate
      UNION ALL
      SELECT a.address + 1
      FROM ${allocations} a
      WHERE a.network_id = ${networkId} AND a.address >= ${range.first}::inet AND a.address < ${range.last}::inet
    ) c
    WHERE c.candidate <= ${range.last}::inet
      AND NOT EXISTS (
        SELECT 1 FROM ${allocations} b WHERE b.network_id = ${networkId} AND b.address = c.candidate
      )
    ORDER BY c.candidate
    LIMIT 1`);
  return rows[0]?.address;
}

export interface NewAllocation {
  networkId: string;
  ipamConfigId: string;
  address: string;
  kind: AllocationKind;
  endpointId?: string;
}

/** Records addresses as used; the primary key (network, address) refuses one already taken. */
export async function insertAllocations(db: Db, rows: NewAllocation[]): Promise<void> {
  if (rows.length === 0) {
    return;
  }
  await db.insert(allocations).values(rows);
}

/** One address of a network's ledger with what holds it. */
export interface AllocationDetail {
  address: string;
  kind: AllocationKind;
  ipamConfigId: string;
  endpointId: string | null;
  nodeId: string | null;
  nodeName: string | null;
}

/** The ledger of a network in address order, with the node holding each endpoint address. */
export async function allocationDetailsOf(db: Db, networkId: string): Promise<AllocationDetail[]> {
  return db
    .select({
      address: sql<string>`host(${allocations.address})`,
      kind: allocations.kind,
      ipamConfigId: allocations.ipamConfigId,
      endpointId: allocations.endpointId,
      nodeId: nodes.id,
      nodeName: nodes.name,
    })
    .from(allocations)
    .leftJoin(endpoints, eq(endpoints.id, allocations.endpointId))
    .leftJoin(nodes, eq(nodes.id, endpoints.nodeId))
    .where(eq(allocations.networkId, networkId))
    .orderBy(allocations.address);
}

/** Every subnet of every scope, with its network: what the address pools view counts. */
export async function listScopeSubnets(
  db: Db,
): Promise<{ scope: string; subnet: string; networkId: string; networkName: string }[]> {
  return db
    .select({
      scope: ipamConfigs.scope,
      subnet: ipamConfigs.subnet,
      networkId: networks.id,
      networkName: networks.name,
    })
    .from(ipamConfigs)
    .innerJoin(networks, eq(networks.id, ipamConfigs.networkId))
    .orderBy(ipamConfigs.scope, ipamConfigs.subnet);
}
