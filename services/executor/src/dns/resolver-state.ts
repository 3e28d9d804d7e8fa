import { defaultHostname } from "@labnet/commands";
import type { HostSnapshot } from "@labnet/db";
import type { ResolverHost, ResolverNetwork, ResolverNode } from "@labnet/netplan";
import { groupBy, type LiveState, liveStateOf } from "../desired-state";

/**
 * Name resolution inputs of a host, from the converge's snapshot: every live network and
 * node, with endpoints and aliases. Built from the same snapshot as the kernel's desired
 * state, so names follow exactly what that converge built or removed.
 */
export function resolverStateOf(
  snapshot: HostSnapshot,
  live: LiveState = liveStateOf(snapshot),
): ResolverHost {
  const configsOf = groupBy(snapshot.ipamConfigs, (c) => c.networkId);
  const networks: ResolverNetwork[] = live.networks.map((n) => {
    const configs = configsOf.get(n.id) ?? [];
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
  const byNode = groupBy(live.endpoints, (e) => e.nodeId);
  const nodes: ResolverNode[] = live.nodes.map((row) => ({
    nodeId: row.id,
    name: row.name,
    netns: row.netns ?? undefined,
    hostname: row.hostname ?? defaultHostname(row),
    dns: row.dns,
    extraHosts: row.extraHosts,
    endpoints: (byNode.get(row.id) ?? []).map((e) => ({
      networkId: e.networkId,
      address: withoutPrefix(e.address),
      gateway: e.gateway ?? undefined,
      aliases: e.aliases,
    })),
  }));
  return { networks, nodes };
}

function withoutPrefix(address: string): string {
  return address.split("/")[0] ?? address;
}
