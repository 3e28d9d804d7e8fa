import type { components } from "@labnet/api";
import { type Db, type HostRow, listScopeSubnets } from "@labnet/db";
import { type AddressPool, poolUsage } from "@labnet/ipam";

type AddressPoolUsage = components["schemas"]["AddressPoolUsage"];

/**
 * The default address pools in the order they are tried, and per host how many of each
 * pool's subnets its networks use (a network's subnet blocks every pool subnet it
 * overlaps, whether the pool handed it out or the client chose it).
 */
export async function addressPoolsView(
  db: Db,
  pools: readonly AddressPool[],
  hosts: readonly HostRow[],
): Promise<AddressPoolUsage[]> {
  const subnets = await listScopeSubnets(db);
  return pools.map((pool) => {
    const perHost = hosts.map((host) => {
      const own = subnets.filter((s) => s.scope === host.id);
      const usage = poolUsage(
        pool,
        own.map((s) => s.subnet),
      );
      const inPool = new Set(usage.overlapping);
      return {
        hostId: host.id,
        hostName: host.name,
        used: usage.used,
        free: usage.free,
        networks: own
          .filter((s) => inPool.has(s.subnet))
          .map((s) => ({ id: s.networkId, name: s.networkName, subnet: s.subnet })),
      };
    });
    const capacity = poolUsage(pool, []).capacity;
    return { base: pool.base, size: pool.size, capacity, hosts: perHost };
  });
}
