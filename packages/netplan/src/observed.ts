/**
 * Kernel state of one lab host as the executor observed it (`ip -j`, `iptables-save`).
 * The planner compares it with the desired state; it never reads the kernel itself.
 */

/** One network interface as `ip -j -d addr show` reports it. */
export interface ObservedLink {
  name: string;
  /** `linkinfo.info_kind`: bridge, veth, macvlan, vxlan, ...; undefined for lo and plain NICs. */
  kind?: string;
  /** Name of the bridge (or other master) this link is enslaved to. */
  master?: string;
  /** Bridge ports only: whether the bridge may send frames back out this port (`ip -d`). */
  hairpin?: boolean;
  /** Macvlans only: `linkinfo.info_data.mode` (bridge, private, vepa, passthru, source). */
  macvlanMode?: string;
  /** vxlan devices only: `linkinfo.info_data.id`, the VNI. */
  vxlanId?: number;
  /** vxlan devices only: `linkinfo.info_data.proxy` (it answers ARP from its neighbour table). */
  vxlanProxy?: boolean;
  /** `ifalias`: Labnet marks the bridges it names after a user's choice (LABNET_LINK_ALIAS). */
  alias?: string;
  /** Administratively up (`UP` in flags), regardless of carrier. */
  up: boolean;
  mtu: number;
  /** Lowercase MAC address. */
  mac: string;
  /** IPv4 addresses with prefix, `a.b.c.d/p`, in kernel order. */
  addresses: string[];
  /** ifindex inside its own namespace. */
  index: number;
  /**
   * ifindex of the peer (veth) or lower device (macvlan, vlan) in the peer's namespace
   * (`link_index`). A sandbox veth's peerIndex is its host veth's index, which is how the
   * planner pairs the two ends without names.
   */
  peerIndex?: number;
}

/** Detail of one sandbox namespace. */
export interface ObservedSandbox {
  links: ObservedLink[];
  /** Next hop of the IPv4 default route in the main table, if any. */
  defaultGateway?: string;
}

/** Everything the planner needs to know about a host. */
export interface ObservedHost {
  /** Named network namespaces (files under /run/netns). */
  netns: string[];
  /** Links of the host namespace itself. */
  links: ObservedLink[];
  /** `iptables-save` output of the host namespace. */
  iptablesSave: string;
  /** Detail for the sandboxes the executor chose to observe, keyed by netns name. */
  sandboxes: Record<string, ObservedSandbox>;
  /**
   * The own forwarding entries (`bridge -j fdb show dev X`: those with a `dst`, not the
   * bridge's) of the vxlan devices the executor looked at, by device. A device missing here
   * was not looked at: the planner then adds every desired entry and removes none.
   */
  fdb?: Record<string, ObservedFdbEntry[]>;
  /** The permanent neighbour entries of the same vxlan devices (`ip -j neigh show dev X`), by device. */
  neigh?: Record<string, ObservedNeighbour[]>;
}

/** A permanent neighbour entry of a vxlan device: `address` is at `mac`. */
export interface ObservedNeighbour {
  address: string;
  /** Lowercase. */
  mac: string;
}

/** One entry of a vxlan device's own forwarding table: frames for `mac` go to `dst`. */
export interface ObservedFdbEntry {
  /** Lowercase; `00:00:00:00:00:00` for the default (flood) entries. */
  mac: string;
  dst: string;
}

/** One route as `ip -j route show` reports it. */
export interface ObservedRoute {
  /** `default` or a CIDR / address. */
  dst: string;
  gateway?: string;
  dev?: string;
}
