import type { HostSnapshot, NetworkRow, NodeEndpoint, NodeRow, OverlayPeer } from "@labnet/db";
import { requireCidr } from "@labnet/ipam";
import {
  DEFAULT_MACVLAN_MODE,
  DEFAULT_MACVLAN_PARENT,
  type DesiredBridge,
  type DesiredHost,
  type DesiredMacvlanEndpoint,
  type DesiredOverlay,
  type DesiredSandbox,
  type MacvlanMode,
  macvlanTempName,
  vxlanName,
} from "@labnet/netplan";
import { desiredPortMappingsOf } from "./desired-ports";

/**
 * Built by the executor: not being removed, not given up on, and started. A `failed` target has
 * no kernel side (a converge prunes what it left behind) until it is asked for again; a
 * `created` node (docker create) has none until it is started.
 */
export function isLive(row: Pick<NetworkRow | NodeRow, "state">): boolean {
  return row.state !== "deleting" && row.state !== "failed" && row.state !== "created";
}

/** The live part of a snapshot: what name resolution and the kernel must show. */
export interface LiveState {
  networks: NetworkRow[];
  nodes: NodeRow[];
  /** Endpoints of live nodes on live networks, in attach order. */
  endpoints: NodeEndpoint[];
}

export function liveStateOf(snapshot: HostSnapshot): LiveState {
  const networks = snapshot.networks.filter(isLive);
  const liveNetworks = new Set(networks.map((n) => n.id));
  const nodes = snapshot.nodes.filter(isLive);
  const liveNodes = new Set(nodes.map((n) => n.id));
  const endpoints = snapshot.endpoints.filter(
    (e) => liveNodes.has(e.nodeId) && liveNetworks.has(e.networkId),
  );
  return { networks, nodes, endpoints };
}

/**
 * What the kernel of a host must look like, from a snapshot: every live network and node.
 * Resources being removed (or failed) are absent, so a converge prunes them; the host veths
 * of such nodes are listed as departing, so they go with their namespace.
 */
export function desiredHostOf(snapshot: HostSnapshot, live: LiveState = liveStateOf(snapshot)): DesiredHost {
  const configs = groupBy(snapshot.ipamConfigs, (c) => c.networkId);
  const bridges: DesiredBridge[] = live.networks
    .filter((n) => n.driver === "bridge")
    .map((n) => {
      const own = configs.get(n.id) ?? [];
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
  const macvlans = new Map(
    live.networks.filter((n) => n.driver === "macvlan").map((n) => [n.id, macvlanOptionsOf(n)]),
  );
  const overlays = overlaysOf(live, configs, snapshot.overlayPeers ?? []);
  bridges.push(...overlays.map((o) => o.bridge));
  const overlayIds = new Set(live.networks.filter((n) => n.driver === "overlay").map((n) => n.id));
  const byNode = groupBy(live.endpoints, (e) => e.nodeId);
  const sandboxes: DesiredSandbox[] = live.nodes.flatMap((node) => {
    if (!node.netns) {
      return []; // mode host or container: no sandbox of their own
    }
    const own = byNode.get(node.id) ?? [];
    // Like Docker's bridge driver, an internal network gives no default gateway: the
    // default route goes via the first endpoint (attach order) on a network with egress. An
    // overlay has no gateway on the machine: its nodes leave through docker_gwbridge.
    const first = own.find((e) => !e.internal && !overlayIds.has(e.networkId));
    const macvlanEndpoints: DesiredMacvlanEndpoint[] = own.flatMap((e) => {
      const options = macvlans.get(e.networkId);
      return options
        ? [
            {
              endpointId: e.id,
              ifName: `eth${e.ifIndex}`,
              ...options,
              address: e.address,
              mac: e.mac,
              mtu: e.mtu,
            },
          ]
        : [];
    });
    return {
      nodeId: node.id,
      netns: node.netns,
      endpoints: own
        .filter((e) => !macvlans.has(e.networkId))
        .map((e) => ({
          endpointId: e.id,
          ifName: `eth${e.ifIndex}`,
          hostVeth: e.hostVeth,
          bridge: e.bridgeName,
          address: e.address,
          mac: e.mac,
          mtu: e.mtu,
        })),
      ...(macvlanEndpoints.length > 0 ? { macvlanEndpoints } : {}),
      ...(first?.gateway ? { defaultGateway: first.gateway } : {}),
    };
  });
  // Removed and failed nodes: their namespaces go, and their veths with them.
  const departing = new Set(snapshot.nodes.filter((n) => !isLive(n)).map((n) => n.id));
  return {
    bridges,
    sandboxes,
    portMappings: desiredPortMappingsOf(snapshot.portMappings, bridges, live.endpoints),
    departingHostVeths: snapshot.endpoints.filter((e) => departing.has(e.nodeId)).map((e) => e.hostVeth),
    ...(overlays.length > 0 ? { overlays: overlays.map((o) => o.overlay) } : {}),
  };
}

/** The underlay link of a virtual machine: its `eth0` on the LAN. */
const OVERLAY_UNDERLAY = "eth0";

/**
 * The overlay networks this machine builds: those with an endpoint of a live node here. Each
 * is a bridge without an address (the overlay's gateway is on no machine, as in Docker) that
 * confines its traffic (internal: no MASQUERADE, no routing in or out), and a vxlan device
 * forwarding to the other machines' endpoints ({@link OverlayPeer}s).
 */
function overlaysOf(
  live: LiveState,
  configs: ReadonlyMap<string, HostSnapshot["ipamConfigs"]>,
  peers: readonly OverlayPeer[],
): { bridge: DesiredBridge; overlay: DesiredOverlay }[] {
  const withEndpoints = new Set(live.endpoints.map((e) => e.networkId));
  const peersOf = groupBy(peers, (p) => p.networkId);
  return live.networks
    .filter((n) => n.driver === "overlay" && n.vni !== null && withEndpoints.has(n.id))
    .map((n) => {
      const remote = peersOf.get(n.id) ?? [];
      const vni = n.vni ?? 0;
      return {
        bridge: {
          networkId: n.id,
          bridge: n.bridgeName,
          gateways: [],
          subnets: (configs.get(n.id) ?? []).map((c) => c.subnet),
          internal: true,
          icc: n.icc,
          isolated: true,
          mtu: n.mtu,
        },
        overlay: {
          networkId: n.id,
          bridge: n.bridgeName,
          vxlan: vxlanNameOrEmpty(vni),
          vni,
          underlay: OVERLAY_UNDERLAY,
          mtu: n.mtu,
          vteps: [...new Set(remote.map((p) => p.vtep))].sort(),
          remotes: remote.map((p) => ({ mac: p.mac, vtep: p.vtep, address: p.address })),
        },
      };
    });
}

/** The vxlan devices of the snapshot's overlay networks (built here or to be pruned here). */
export function vxlanNamesOf(snapshot: HostSnapshot): string[] {
  return snapshot.networks.flatMap((n) => {
    const name = n.vni === null ? "" : vxlanNameOrEmpty(n.vni);
    return name ? [name] : [];
  });
}

/** The vxlan name of `vni`; "" for a VNI no name derives from (the planner's checks fail that network). */
function vxlanNameOrEmpty(vni: number): string {
  try {
    return vxlanName(vni);
  } catch {
    return "";
  }
}

/**
 * The parent and mode of a macvlan network, as its options record them (Docker's names,
 * `parent` and `macvlan_mode`). A mode that is not one Labnet builds is passed on as it is,
 * so the planner's checks fail this network's nodes rather than build something else.
 */
function macvlanOptionsOf(network: NetworkRow): { parent: string; mode: MacvlanMode } {
  return {
    parent: network.options.parent ?? DEFAULT_MACVLAN_PARENT,
    // Checked with the rest of the sandbox (desired-validate.ts), which fails only its node.
    mode: (network.options.macvlan_mode ?? DEFAULT_MACVLAN_MODE) as MacvlanMode,
  };
}

/** A target of an operation: what a kernel name belongs to. */
export interface Target {
  type: "network" | "node";
  id: string;
}

/**
 * Kernel name → the network or node it belongs to, for every row of the snapshot (removed
 * ones too): a failed batch line names a bridge, a host veth or a namespace, and this tells
 * whose operation it fails.
 */
export function kernelOwnersOf(snapshot: HostSnapshot): Map<string, Target> {
  const owners = new Map<string, Target>();
  for (const network of snapshot.networks) {
    owners.set(network.bridgeName, { type: "network", id: network.id });
    if (network.vni !== null) {
      const vxlan = vxlanNameOrEmpty(network.vni);
      if (vxlan) {
        owners.set(vxlan, { type: "network", id: network.id });
      }
    }
  }
  for (const node of snapshot.nodes) {
    if (node.netns) {
      owners.set(node.netns, { type: "node", id: node.id });
    }
  }
  const macvlanNetworks = new Set(snapshot.networks.filter((n) => n.driver === "macvlan").map((n) => n.id));
  for (const endpoint of snapshot.endpoints) {
    owners.set(endpoint.hostVeth, { type: "node", id: endpoint.nodeId });
    const temp = macvlanNetworks.has(endpoint.networkId) ? tempNameOf(endpoint.id) : undefined;
    if (temp) {
      // The name its macvlan is created under, in the host batch line that may fail.
      owners.set(temp, { type: "node", id: endpoint.nodeId });
    }
  }
  return owners;
}

/** The macvlan temporary name of an endpoint id; undefined for an id no kernel name derives from. */
function tempNameOf(endpointId: string): string | undefined {
  try {
    return macvlanTempName(endpointId);
  } catch {
    return undefined;
  }
}

/** Items by key, each group in the items' order. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) {
      group.push(item);
    } else {
      groups.set(k, [item]);
    }
  }
  return groups;
}
