import { asc, eq, inArray, sql } from "drizzle-orm";
import type { AllocationKind } from "../schema";
import { allocations, ipamConfigs, networks } from "../schema";
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

export type AllocationRow = typeof allocations.$inferSelect;

export async function allocationsOf(db: Db, networkId: string): Promise<AllocationRow[]> {
  return db
    .select()
    .from(allocations)
    .where(eq(allocations.networkId, networkId))
    .orderBy(allocations.address);
}
