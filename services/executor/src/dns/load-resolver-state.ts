import { type Db, endpointsOfNodes, ipamConfigsOf, liveNetworksOfHost, liveNodesOfHost } from "@labnet/db";
import type { ResolverHost, ResolverNetwork, ResolverNode } from "@labnet/netplan";

/** The resolver state of a host. */
export interface LoadedResolverState {
  state: ResolverHost;
}

/**
 * Name resolution inputs of a host from Postgres: every network and node that is not being
 * removed, with endpoints and aliases. Loaded after each converge, so names follow
 * connects, disconnects and removals with no bookkeeping of their own.
 */
export async function loadResolverState(db: Db, hostId: string): Promise<LoadedResolverState> {
  const networkRows = await liveNetworksOfHost(db, hostId);
  const configs = await ipamConfigsOf(
    db,
    networkRows.map((n) => n.id),
  );
  const networks: ResolverNetwork[] = networkRows.map((n) => ({
    networkId: n.id,
    name: n.name,
    gateways: configs.filter((c) => c.networkId === n.id).map((c) => withoutPrefix(c.gateway)),
    subnets: configs.filter((c) => c.networkId === n.id).map((c) => c.subnet),
    // User-defined bridge networks only: the default `bridge` has no names, as in Docker, and
    // other drivers have no gateway on this host to answer on.
    dns: n.driver === "bridge" && !n.builtin,
  }));
  const live = new Set(networks.map((n) => n.networkId));

  const nodeRows = await liveNodesOfHost(db, hostId);
  const endpoints = await endpointsOfNodes(
    db,
    nodeRows.map((n) => n.id),
  );
  const nodes: ResolverNode[] = nodeRows.map((row) => ({
    nodeId: row.id,
    name: row.name,
    netns: row.netns ?? undefined,
    hostname: row.hostname ?? undefined,
    dns: row.dns,
    extraHosts: row.extraHosts,
    endpoints: endpoints
      .filter((e) => e.nodeId === row.id && live.has(e.networkId))
      .map((e) => ({
        networkId: e.networkId,
        address: withoutPrefix(e.address),
        gateway: e.gateway ?? undefined,
        aliases: e.aliases,
      })),
  }));
  return { state: { networks, nodes } };
}

function withoutPrefix(address: string): string {
  return address.split("/")[0] ?? address;
}
