import type { HostSnapshot } from "@labnet/db";
import type { ResolverHost, ResolverNetwork, ResolverNode } from "@labnet/netplan";
import { type LiveState, liveStateOf } from "../desired-state";

/**
 * Name resolution inputs of a host, from the converge's snapshot: every live network and
 * node, with endpoints and aliases. Built from the same snapshot as the kernel's desired
 * state, so names follow exactly what that converge built or removed.
 */
export function resolverStateOf(
  snapshot: HostSnapshot,
  live: LiveState = liveStateOf(snapshot),
): ResolverHost {
  const networks: ResolverNetwork[] = live.networks.map((n) => {
    const configs = snapshot.ipamConfigs.filter((c) => c.networkId === n.id);
    return {
      networkId: n.id,
      name: n.name,
      gateways: configs.map((c) => withoutPrefix(c.gateway)),
      subnets: configs.map((c) => c.subnet),
      // User-defined bridge networks only: the default `bridge` has no names, as in Docker, and
      // other drivers have no gateway on this host to answer on.
      dns: n.driver === "bridge" && !n.builtin,
    };
  });
  const byNode = new Map<string, ResolverNode["endpoints"]>();
  for (const e of live.endpoints) {
    const list = byNode.get(e.nodeId) ?? [];
    list.push({
      networkId: e.networkId,
      address: withoutPrefix(e.address),
      gateway: e.gateway ?? undefined,
      aliases: e.aliases,
    });
    byNode.set(e.nodeId, list);
  }
  const nodes: ResolverNode[] = live.nodes.map((row) => ({
    nodeId: row.id,
    name: row.name,
    netns: row.netns ?? undefined,
    hostname: row.hostname ?? undefined,
    dns: row.dns,
    extraHosts: row.extraHosts,
    endpoints: byNode.get(row.id) ?? [],
  }));
  return { networks, nodes };
}

function withoutPrefix(address: string): string {
  return address.split("/")[0] ?? address;
}
