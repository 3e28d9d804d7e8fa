import { type Db, endpointsOfNodes, ipamConfigsOf, liveNetworksOfHost, liveNodesOfHost } from "@labnet/db";
import { requireCidr } from "@labnet/ipam";
import type { DesiredBridge, DesiredHost, DesiredSandbox } from "@labnet/netplan";
import { loadDesiredPortMappings } from "./desired-ports";

/**
 * What the kernel of a host must look like, from Postgres: every network and node that
 * is not being removed. Resources being removed are absent, so a converge prunes them.
 */
export async function loadDesiredHost(db: Db, hostId: string): Promise<DesiredHost> {
  const networks = await liveNetworksOfHost(db, hostId);
  const configs = await ipamConfigsOf(
    db,
    networks.map((n) => n.id),
  );
  const bridges: DesiredBridge[] = networks
    .filter((n) => n.driver === "bridge")
    .map((n) => {
      const own = configs.filter((c) => c.networkId === n.id);
      return {
        networkId: n.id,
        bridge: n.bridgeName,
        gateways: own.map((c) => `${c.gateway}/${requireCidr(c.subnet).prefix}`),
        subnets: own.map((c) => c.subnet),
        internal: n.internal,
        icc: n.icc,
        isolated: n.isolated,
        mtu: n.mtu,
      };
    });

  const nodes = await liveNodesOfHost(db, hostId);
  const endpoints = await endpointsOfNodes(
    db,
    nodes.map((n) => n.id),
  );
  const sandboxes: DesiredSandbox[] = nodes.flatMap((node) => {
    if (!node.netns) {
      return []; // mode host or container: no sandbox of its own
    }
    const own = endpoints.filter((e) => e.nodeId === node.id);
    // Like Docker's bridge driver, an internal network gives no default gateway: the
    // default route goes via the first endpoint (attach order) on a network with egress.
    const first = own.find((e) => !e.internal);
    return {
      nodeId: node.id,
      netns: node.netns,
      endpoints: own.map((e) => ({
        endpointId: e.id,
        ifName: `eth${e.ifIndex}`,
        hostVeth: e.hostVeth,
        bridge: e.bridgeName,
        address: e.address,
        mac: e.mac,
        mtu: e.mtu,
      })),
      ...(first?.gateway ? { defaultGateway: first.gateway } : {}),
    };
  });
  return { bridges, sandboxes, portMappings: await loadDesiredPortMappings(db, hostId, bridges, endpoints) };
}
