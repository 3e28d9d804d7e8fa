/**
 * Kernel names Labnet creates, and the predicates that decide what Labnet owns.
 * This is the one place these strings are built: every name that reaches `ip` or
 * `iptables-restore` comes from a builder here or passed a validator here, because
 * `ip -batch` splits lines on whitespace and a crafted name would be a second command.
 */

/** Linux IFNAMSIZ is 16 including the terminating NUL. */
const IF_NAME_MAX = 15;
/** iproute2 refuses longer netns names (NAME_MAX of its own choosing). */
const NETNS_NAME_MAX = 64;
/** Random part of every Labnet id: 16 chars of lowercase base32. */
const ID_RANDOM_LENGTH = 16;

const KERNEL_NAME_PATTERN = /^[a-zA-Z0-9_.-]+$/;
const ID_RANDOM_PATTERN = /^[a-z2-7]{16}$/;
/** Starts with a letter (never read as a command-line option), ends in `-`. */
const NETNS_PREFIX_PATTERN = /^[a-zA-Z][a-zA-Z0-9_.-]*-$/;

/** Labnet's own iptables chains in the nat table. */
export const NAT_CHAINS = {
  postrouting: "LABNET-POSTROUTING",
  prerouting: "LABNET-PREROUTING",
  output: "LABNET-OUTPUT",
  /** Published ports: one DNAT per mapping, entered from prerouting and output. */
  dnat: "LABNET-DNAT",
} as const;

/** Labnet's own iptables chains in the raw table (only on hosts that publish ports). */
export const RAW_CHAINS = {
  /** Drops loopback-addressed packets arriving on bridges that have route_localnet on. */
  prerouting: "LABNET-RAW",
} as const;

/** Labnet's own iptables chains in the filter table. */
export const FILTER_CHAINS = {
  forward: "LABNET-FORWARD",
  isolation: "LABNET-ISOLATION",
  /** Second isolation stage of an isolated bridge's traffic: into any bridge is dropped. */
  isolationAny: "LABNET-ISOLATION-ANY",
  /** Second isolation stage of a non-isolated bridge's traffic: into an isolated bridge is dropped. */
  isolationIsolated: "LABNET-ISOLATION-ISO",
} as const;

/**
 * Per-bridge chains: the rules that change with a bridge's nodes (published ports, hairpins,
 * its FORWARD accepts) live in chains of their own, so a converge that changes one network
 * rewrites only that network's chains. The top-level chains only jump to them.
 */
export const BRIDGE_CHAIN_KINDS = {
  /** nat: the DNAT of each published port targeting the bridge; entered from LABNET-DNAT. */
  dnat: "LABNET-DNAT-",
  /** nat: hairpin and loopback MASQUERADEs out of the bridge; entered from LABNET-POSTROUTING. */
  post: "LABNET-POST-",
  /** filter: replies, published-port accepts and the icc drop of traffic into the bridge. */
  forward: "LABNET-FWD-",
} as const;

/**
 * The chain of `kind` for a Labnet bridge: `LABNET-FWD-lnbr-abcdefgh`, `LABNET-DNAT-docker0`
 * (26 bytes at most: the longest prefix and a 15-byte name; iptables allows 28).
 */
export function bridgeChainName(kind: keyof typeof BRIDGE_CHAIN_KINDS, bridge: string): string {
  if (!isLabnetBridge(bridge) && !isChosenBridgeName(bridge)) {
    throw new Error(`not a Labnet bridge: ${JSON.stringify(bridge)}`);
  }
  return `${BRIDGE_CHAIN_KINDS[kind]}${bridge}`;
}

const BRIDGE_PREFIX = "lnbr-";
const HOST_VETH_PREFIX = "lnv";
/** Temporary sandbox-side name of a veth whose final ethN is still taken by a stale link. */
const TEMP_PEER_PREFIX = "lnt";
/**
 * Name a macvlan endpoint has between its creation (in the host batch, straight into the
 * sandbox) and its rename to `ethN` (in the sandbox batch).
 */
const MACVLAN_TEMP_PREFIX = "lns";
/** Sandbox interfaces follow Docker: eth0, eth1, ... in attach order. */
const SANDBOX_IF_PREFIX = "eth";

const LABNET_BRIDGE_PATTERN = /^lnbr-[a-z2-7]{8}$/;
const LABNET_HOST_VETH_PATTERN = /^lnv[a-z2-7]{10}$/;
const LABNET_TEMP_PEER_PATTERN = /^lnt[a-z2-7]{10}$/;
const LABNET_MACVLAN_TEMP_PATTERN = /^lns[a-z2-7]{10}$/;
const SANDBOX_IF_PATTERN = /^eth(0|[1-9][0-9]{0,3})$/;
/** An overlay network's vxlan device: `lnvx-` + its VNI in decimal (1-16777215). */
const VXLAN_PREFIX = "lnvx-";
const LABNET_VXLAN_PATTERN = /^lnvx-[1-9][0-9]{0,7}$/;
/** Largest VXLAN network identifier (24 bits). */
export const MAX_VNI = 16_777_215;

/** True for a valid Linux interface name: 1-15 bytes of `[a-zA-Z0-9_.-]`, not `.` or `..`. */
export function isValidIfName(name: string): boolean {
  return (
    name.length >= 1 &&
    name.length <= IF_NAME_MAX &&
    KERNEL_NAME_PATTERN.test(name) &&
    name !== "." &&
    name !== ".."
  );
}

/** True for a network namespace name Labnet accepts: 1-64 chars of `[a-zA-Z0-9_.-]`, not `.` or `..`. */
export function isValidNetnsName(name: string): boolean {
  return (
    name.length >= 1 &&
    name.length <= NETNS_NAME_MAX &&
    KERNEL_NAME_PATTERN.test(name) &&
    name !== "." &&
    name !== ".."
  );
}

/**
 * True for a sandbox netns prefix: 2-48 chars of `[a-zA-Z0-9_.-]`, starting with a letter
 * (never read as an option) and ending in `-`, so that prefix + 16 id chars is a valid
 * netns name and pruning by prefix cannot match a name that merely shares its first
 * letters (`ln` would match `lnxyz`; `ln-` does not).
 *
 * @example isValidNetnsPrefix("ln-") // true
 * @example isValidNetnsPrefix("lt4f2ah1-") // true
 */
export function isValidNetnsPrefix(prefix: string): boolean {
  return prefix.length <= NETNS_NAME_MAX - ID_RANDOM_LENGTH && NETNS_PREFIX_PATTERN.test(prefix);
}

/** What a machine's prefix adds to its lab host's: `m` + 8 id chars (see machineNetnsPrefix). */
const MACHINE_PREFIX_EXTRA = 9;

/**
 * True for a lab host's sandbox prefix (LABNET_NETNS_PREFIX): a valid prefix short enough that
 * its machines' prefixes are valid too. The one rule: the executor's and devstack's configs
 * check it at start, so a prefix the plan would refuse later stops the process at once.
 *
 * @example isValidHostNetnsPrefix("ln-") // true
 * @example isValidHostNetnsPrefix("9x-") // false: starts with a digit
 */
export function isValidHostNetnsPrefix(prefix: string): boolean {
  return (
    isValidNetnsPrefix(prefix) && prefix.length <= NETNS_NAME_MAX - ID_RANDOM_LENGTH - MACHINE_PREFIX_EXTRA
  );
}

/** {@link isValidHostNetnsPrefix} in words, for configuration errors. */
export const HOST_NETNS_PREFIX_RULE =
  "must be 2-39 letters, digits, _ . or -, starting with a letter and ending in -";

/** True for a bridge name Labnet creates (`lnbr-` + 8 id chars). */
export function isLabnetBridge(name: string): boolean {
  return LABNET_BRIDGE_PATTERN.test(name);
}

/**
 * The `ifalias` Labnet gives a bridge it builds under a chosen name (a user's
 * `com.docker.network.bridge.name`, a machine's `docker0`): such a bridge is Labnet's only when
 * it carries it. A link of that name without it belongs to someone else and is never touched
 * (`lnbr-<id8>` names say whose they are by themselves).
 */
export const LABNET_LINK_ALIAS = "labnet";

/** Prefix of every name Labnet makes up (lnbr-, lnv, lnt, lns, lnvx-): not for users' bridges. */
const RESERVED_NAME_PREFIX = "ln";

/**
 * True for a bridge name a network may be given instead of `lnbr-<id8>`: a valid interface
 * name starting with a letter or digit (never read as an option on a batch line), not of a
 * form Labnet makes up (`ln...`), and not `lo`, `all` or `default` (the latter two name every
 * interface's settings under /proc/sys/net/ipv4/conf).
 */
export function isChosenBridgeName(name: string): boolean {
  return (
    isValidIfName(name) &&
    /^[a-zA-Z0-9]/.test(name) &&
    !name.startsWith(RESERVED_NAME_PREFIX) &&
    !NOT_CHOSEN_NAMES.has(name)
  );
}

const NOT_CHOSEN_NAMES = new Set(["lo", "all", "default"]);

/** {@link isChosenBridgeName} in words, for problems. */
export const CHOSEN_BRIDGE_NAME_RULE =
  "1-15 letters, digits, _ . or -, starting with a letter or digit, not lo, all or default, and not starting with ln (Labnet's own names)";

/** True for a desired bridge's name: Labnet's `lnbr-<id8>` or a chosen one. */
export function isDesiredBridgeName(name: string): boolean {
  return isLabnetBridge(name) || isChosenBridgeName(name);
}

/**
 * True when an observed bridge is Labnet's: named `lnbr-<id8>`, or any bridge carrying
 * {@link LABNET_LINK_ALIAS} (what pruning may delete when no network wants it any more).
 */
export function isLabnetOwnedBridge(link: { name: string; kind?: string; alias?: string }): boolean {
  return isLabnetBridge(link.name) || (link.kind === "bridge" && link.alias === LABNET_LINK_ALIAS);
}

/** True for a host-side veth name Labnet creates (`lnv` + 10 id chars). */
export function isLabnetHostVeth(name: string): boolean {
  return LABNET_HOST_VETH_PATTERN.test(name);
}

/** True for the temporary sandbox-side name of a veth being moved into place (`lnt` + 10 id chars). */
export function isLabnetTempPeer(name: string): boolean {
  return LABNET_TEMP_PEER_PATTERN.test(name);
}

/** True for the temporary name of a macvlan endpoint not yet renamed to `ethN` (`lns` + 10 id chars). */
export function isLabnetMacvlanTemp(name: string): boolean {
  return LABNET_MACVLAN_TEMP_PATTERN.test(name);
}

/** True for an overlay's vxlan device name Labnet creates (`lnvx-<vni>`). */
export function isLabnetVxlan(name: string): boolean {
  return LABNET_VXLAN_PATTERN.test(name) && Number(name.slice(VXLAN_PREFIX.length)) <= MAX_VNI;
}

/**
 * The vxlan device of an overlay network with VNI `vni` on a machine: `lnvx-<vni>`.
 *
 * @example vxlanName(257) // "lnvx-257"
 */
export function vxlanName(vni: number): string {
  if (!Number.isInteger(vni) || vni < 1 || vni > MAX_VNI) {
    throw new Error(`invalid VNI: ${vni}`);
  }
  return assertIfName(VXLAN_PREFIX + String(vni));
}

/** True for a sandbox interface name of Labnet's `ethN` form. */
export function isSandboxIfName(name: string): boolean {
  return SANDBOX_IF_PATTERN.test(name);
}

/** Kernel bridge name of a network: `lnbr-` + first 8 chars of the id's random part. */
export function bridgeName(networkId: string): string {
  return assertIfName(BRIDGE_PREFIX + idRandom(networkId, "net_").slice(0, 8));
}

/** Host-side veth name of an endpoint: `lnv` + first 10 chars of the id's random part. */
export function hostVethName(endpointId: string): string {
  return assertIfName(HOST_VETH_PREFIX + idRandom(endpointId, "ep_").slice(0, 10));
}

/**
 * Temporary sandbox-side name for an endpoint's veth peer (`lnt` + 10 chars), used when
 * its final `ethN` name is still held by a stale link that must go first.
 */
export function tempPeerName(hostVeth: string): string {
  if (!isLabnetHostVeth(hostVeth)) {
    throw new Error(`not a Labnet host veth name: ${JSON.stringify(hostVeth)}`);
  }
  return assertIfName(TEMP_PEER_PREFIX + hostVeth.slice(HOST_VETH_PREFIX.length));
}

/**
 * Temporary name of an endpoint's macvlan (`lns`, a sub-interface, + first 10 chars of the id's random part):
 * it is created under this name in the sandbox, where `ethN` may still be held by a stale
 * link, and renamed once the sandbox batch has freed `ethN`.
 *
 * @example macvlanTempName("ep_abcdefghij234567") // "lnsabcdefghij"
 */
export function macvlanTempName(endpointId: string): string {
  return assertIfName(MACVLAN_TEMP_PREFIX + idRandom(endpointId, "ep_").slice(0, 10));
}

/**
 * The netns prefix of a virtual machine's nodes on a lab host whose own prefix is `labPrefix`:
 * `ln-` → `lnm<8 id chars>-`. It never starts with `labPrefix` nor with another machine's, so
 * no converge takes another machine's sandboxes for strays of its own.
 */
export function machineNetnsPrefix(labPrefix: string, machineId: string): string {
  if (!isValidNetnsPrefix(labPrefix)) {
    throw new Error(`invalid netns prefix: ${JSON.stringify(labPrefix)}`);
  }
  const prefix = `${labPrefix.slice(0, -1)}m${idRandom(machineId, "hst_").slice(0, 8)}-`;
  if (!isValidNetnsPrefix(prefix)) {
    throw new Error(`machine netns prefix too long: ${JSON.stringify(prefix)}`);
  }
  return prefix;
}

/**
 * Network namespace name of a node's sandbox: the executor's prefix + the 16 random chars.
 *
 * @example sandboxNetnsName("ln-", "nod_abcdefghijklmnop") // "ln-abcdefghijklmnop"
 */
export function sandboxNetnsName(prefix: string, nodeId: string): string {
  if (!isValidNetnsPrefix(prefix)) {
    throw new Error(`invalid netns prefix: ${JSON.stringify(prefix)}`);
  }
  const name = prefix + idRandom(nodeId, "nod_");
  if (!isValidNetnsName(name)) {
    throw new Error(`invalid netns name: ${JSON.stringify(name)}`);
  }
  return name;
}

/** Interface name inside a sandbox for the endpoint attached at `index` (0-based): `eth0`, `eth1`, ... */
export function sandboxIfName(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 9999) {
    throw new Error(`invalid interface index: ${index}`);
  }
  return assertIfName(SANDBOX_IF_PREFIX + String(index));
}

function idRandom(id: string, prefix: string): string {
  const random = id.startsWith(prefix) ? id.slice(prefix.length) : "";
  if (!ID_RANDOM_PATTERN.test(random)) {
    throw new Error(`invalid Labnet id, want ${prefix}<16 chars a-z2-7>: ${JSON.stringify(id)}`);
  }
  return random;
}

function assertIfName(name: string): string {
  if (!isValidIfName(name)) {
    throw new Error(`invalid interface name: ${JSON.stringify(name)}`);
  }
  return name;
}
