import type { components } from "@labnet/api";
import { allocationDetailsOf, type Db, ipamConfigsOf, type NetworkRow } from "@labnet/db";
import { addressUsage, resolveIpamConfig } from "@labnet/ipam";

type NetworkAllocations = components["schemas"]["NetworkAllocations"];
type NetworkAllocation = components["schemas"]["NetworkAllocation"];

/** A network's address ledger with the utilisation of each IPAM config (math in @labnet/ipam). */
export async function networkAllocationsView(
  db: Db,
  network: NetworkRow,
): Promise<Omit<NetworkAllocations, "next">> {
  const [configs, allocations] = await Promise.all([
    ipamConfigsOf(db, [network.id]),
    allocationDetailsOf(db, network.id),
  ]);
  const subnetOf = new Map(configs.map((c) => [c.id, c.subnet]));
  return {
    networkId: network.id,
    name: network.name,
    configs: configs.map((c) => {
      const resolved = resolveIpamConfig({
        subnet: c.subnet,
        gateway: c.gateway,
        ...(c.ipRange ? { ipRange: c.ipRange } : {}),
      });
      if (!resolved.ok) {
        throw new Error(`stored IPAM config ${c.id} is invalid: ${resolved.errors[0]?.message}`);
      }
      const usage = addressUsage(
        resolved.config,
        allocations.filter((a) => a.ipamConfigId === c.id).map((a) => a.address),
      );
      return {
        subnet: c.subnet,
        gateway: c.gateway,
        ...(c.ipRange ? { ipRange: c.ipRange } : {}),
        size: usage.size,
        used: usage.used,
        free: usage.free,
        dynamic: usage.dynamic,
      };
    }),
    items: allocations.map((a) => {
      const config = configs.find((c) => c.id === a.ipamConfigId);
      const auxName =
        a.kind === "aux"
          ? Object.entries(config?.auxAddresses ?? {}).find(([, address]) => address === a.address)?.[0]
          : undefined;
      const item: NetworkAllocation = {
        address: a.address,
        kind: a.kind,
        subnet: subnetOf.get(a.ipamConfigId) ?? "",
        ...(auxName ? { auxName } : {}),
        ...(a.endpointId ? { endpointId: a.endpointId } : {}),
        ...(a.nodeId ? { nodeId: a.nodeId } : {}),
        ...(a.nodeName ? { nodeName: a.nodeName } : {}),
      };
      return item;
    }),
  };
}
