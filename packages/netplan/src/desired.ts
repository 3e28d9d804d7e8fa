/**
 * Desired kernel state of one lab host, as the executor derives it from Postgres.
 * Everything here is already validated and named by Labnet (see names.ts); netplan
 * never invents names or addresses.
 */

/** A bridge network as it must exist on this host. */
export interface DesiredBridge {
  /** Labnet network id (net_...). */
  networkId: string;
  /** Kernel bridge name, `lnbr-xxxxxxxx` (fits IFNAMSIZ). */
  bridge: string;
  /** Gateway addresses with the subnet's prefix, e.g. `172.18.0.1/16`, one per IPAM config. */
  gateways: string[];
  /** Subnets in CIDR form, e.g. `172.18.0.0/16`. */
  subnets: string[];
  /** Internal networks get no MASQUERADE and no egress. */
  internal: boolean;
  /** Nodes of this network may talk to each other (Docker's enable_icc). */
  icc: boolean;
  /** Traffic to and from other bridge networks is dropped unless both have this off. */
  isolated: boolean;
  mtu: number;
}

/** One endpoint: a veth pair from a bridge into a sandbox. */
export interface DesiredEndpoint {
  /** Labnet endpoint id (ep_...). */
  endpointId: string;
  /** Interface name inside the sandbox: eth0, eth1, ... in attach order. */
  ifName: string;
  /** Host-side veth name, `lnv` + 10 chars (fits IFNAMSIZ). */
  hostVeth: string;
  /** Bridge the host side is enslaved to. */
  bridge: string;
  /** Address with prefix, e.g. `172.18.0.2/16`. */
  address: string;
  /** e.g. `02:42:ac:12:00:02`. */
  mac: string;
  mtu: number;
}

/** Modes of a macvlan (`ip link add ... type macvlan mode MODE`), Docker's `macvlan_mode`. */
export type MacvlanMode = "bridge" | "private" | "vepa" | "passthru";

/**
 * One endpoint on a macvlan network: a macvlan sub-interface of `parent` (a link of the host
 * namespace), created straight into the sandbox and renamed `ethN` there. Nothing of it stays
 * on the host: no bridge, no host veth, no rules.
 */
export interface DesiredMacvlanEndpoint {
  /** Labnet endpoint id (ep_...); the temporary name derives from it (`macvlanTempName`). */
  endpointId: string;
  /** Interface name inside the sandbox: eth0, eth1, ... in attach order. */
  ifName: string;
  /** The host link it rides on (`eth0` by default, Docker's `parent`). */
  parent: string;
  mode: MacvlanMode;
  /** Address with prefix, e.g. `100.0.0.1/24`. */
  address: string;
  /** e.g. `02:42:64:00:00:01`; in passthru mode the kernel gives it the parent's MAC instead. */
  mac: string;
  mtu: number;
}

/**
 * An overlay network on this machine (one with an endpoint here): its bridge (in
 * {@link DesiredHost.bridges}, without an address) gets a vxlan device over the underlay link,
 * and the vxlan's forwarding table sends frames to the other machines' VTEPs, programmed from
 * Postgres (no multicast, no learning).
 */
export interface DesiredOverlay {
  /** Labnet network id (net_...). */
  networkId: string;
  /** The overlay's bridge on this machine (one of the desired bridges). */
  bridge: string;
  /** The vxlan device, `lnvx-<vni>` (`vxlanName`). */
  vxlan: string;
  /** VXLAN network identifier (Docker's `vxlanid_list`). */
  vni: number;
  /** The link VXLAN packets leave by: the machine's `eth0` on its LAN. */
  underlay: string;
  /** MTU of the vxlan device (1450: 50 bytes of VXLAN headers inside a 1500 LAN). */
  mtu: number;
  /** Underlay addresses of the other machines with endpoints on the overlay (broadcast and ARP go to each). */
  vteps: string[];
  /**
   * The other machines' endpoints: frames for `mac` go to the VTEP at `vtep`, and the vxlan
   * device answers ARP for `address` itself (a permanent neighbour entry, `proxy`).
   */
  remotes: { mac: string; vtep: string; address: string }[];
}

/** A node's sandbox: a named network namespace. */
export interface DesiredSandbox {
  /** Labnet node id (nod_...). */
  nodeId: string;
  /** Network namespace name (file under /run/netns). */
  netns: string;
  /** In attach order; empty for network mode `none` (only lo). */
  endpoints: DesiredEndpoint[];
  /** Endpoints on macvlan networks (their `ifName`s share the sandbox's eth0, eth1, ... with `endpoints`). */
  macvlanEndpoints?: DesiredMacvlanEndpoint[];
  /** Default route next hop (the first endpoint's network gateway), if any. */
  defaultGateway?: string;
}

/** One published host port (one row of the port ledger), DNATed to a node. */
export interface DesiredPortMapping {
  protocol: "tcp" | "udp";
  /** Host address it answers on; undefined for every address (`0.0.0.0`). */
  bindAddress?: string;
  hostPort: number;
  /**
   * The node's IPv4 address (no prefix) on `bridge`: its first endpoint on a bridge network
   * that is not internal (Docker publishes nothing on internal networks).
   */
  targetAddress: string;
  targetPort: number;
  /** The bridge the node is reached through. */
  bridge: string;
}

export interface DesiredHost {
  bridges: DesiredBridge[];
  sandboxes: DesiredSandbox[];
  /** Published ports of the host, in ledger order. */
  portMappings: DesiredPortMapping[];
  /** Overlay networks with an endpoint on this host (their bridges are in `bridges`). */
  overlays?: DesiredOverlay[];
  /**
   * Host veths of sandboxes being removed. Deleting a namespace destroys the veth pairs in it,
   * so pruning leaves these to the `netns del` (about 1 ms each) instead of one `link del`
   * apiece (about 23 ms each: every one waits for the kernel to tear the pair down).
   */
  departingHostVeths?: readonly string[];
}
