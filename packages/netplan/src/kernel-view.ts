/**
 * The kernel truth of a machine, for people: what the course material shows with `ip addr`,
 * `ip route`, `brctl show`, `bridge fdb` and `iptables -t nat -nL`, built from the JSON of
 * iproute2 (`ip -j`, `bridge -j`) and the text of `iptables-save`. Pure: the executor runs the
 * commands ({@link KERNEL_VIEW_COMMANDS}) and hands their output to {@link buildKernelView}.
 * The planner's parsers (parse-ip-json.ts) read the same JSON for the fields they share; this
 * module adds what a person looks at (IPv6, operational state, route scope, bridge ports, fdb).
 */
import { readIptablesTables } from "./iptables-save";
import { parseIpAddrJson, parseIpRouteJson, parseJsonDocuments } from "./parse-ip-json";

/** One address of an interface, as `ip addr` shows it. */
export interface KernelAddress {
  family: "inet" | "inet6";
  address: string;
  prefixLength: number;
  /** `global`, `link`, `host`, ... */
  scope: string;
}

/** One interface of the namespace (`ip -d addr show`). */
export interface KernelInterface {
  name: string;
  index: number;
  /** `bridge`, `veth`, `macvlan`, `vxlan`, ...; absent for lo and plain devices. */
  kind?: string;
  /** Administratively up (`UP` among the flags, `ifconfig`'s UP). */
  up: boolean;
  /** Operational state in lowercase: `up`, `down`, `unknown`, `lowerlayerdown`, ... */
  operState: string;
  mtu: number;
  /** Lowercase MAC; absent for devices without one. */
  mac?: string;
  addresses: KernelAddress[];
  /** The bridge (or other master) the interface is a port of. */
  master?: string;
  /** The peer (veth) or lower device (macvlan, vxlan) when it lives in the same namespace. */
  link?: string;
  /** vxlan devices: the VNI, UDP port and underlay device. */
  vxlan?: { vni: number; port?: number; device?: string };
}

/** One route of the main table (`ip -j route show`). */
export interface KernelRoute {
  /** `default` or a CIDR / address. */
  dst: string;
  gateway?: string;
  dev?: string;
  /** `kernel`, `boot`, `static`, ...; absent when `ip` prints none (a route added by hand). */
  protocol?: string;
  /** `link`, `host`, ...; absent for `global`, which `ip` does not print. */
  scope?: string;
  prefsrc?: string;
  metric?: number;
  /** Route type when not `unicast` (`blackhole`, `unreachable`, ...). */
  type?: string;
}

/** One port of a bridge (`bridge link`). */
export interface KernelBridgePort {
  name: string;
  /** STP port state: `forwarding`, `disabled`, `blocking`, ... */
  state?: string;
  hairpin?: boolean;
}

/** One bridge with its ports (`brctl show`). */
export interface KernelBridge {
  name: string;
  /** Bridge id, `8000.6e:1:38:21:f3:3d` as iproute2 prints it. */
  id?: string;
  stp: boolean;
  ports: KernelBridgePort[];
}

/** One forwarding database entry (`bridge fdb show`). */
export interface KernelFdbEntry {
  mac: string;
  /** The device the entry is on (a bridge port, or a vxlan device's own entries). */
  device: string;
  /** The bridge, for entries of the bridge's table. */
  master?: string;
  /** vxlan: the remote underlay address frames for `mac` are sent to. */
  dst?: string;
  vlan?: number;
  /** `dynamic` (learned), `static` or `permanent`. */
  state: string;
  /** An entry of the device's own table (`self`) rather than its master's. */
  self: boolean;
}

/** Labnet's rules per table as `iptables-save` text: its chains and the jumps into them. */
export interface LabnetRules {
  nat: string;
  filter: string;
  raw: string;
}

/** Everything the kernel view shows of one namespace. */
export interface KernelView {
  interfaces: KernelInterface[];
  routes: KernelRoute[];
  bridges: KernelBridge[];
  fdb: KernelFdbEntry[];
  iptables: LabnetRules;
  sysctls: { ipForward: boolean };
}

/** What the commands of {@link KERNEL_VIEW_COMMANDS} printed. */
export interface KernelViewOutputs {
  addr: string;
  route: string;
  bridgeLink: string;
  fdb: string;
  iptablesSave: string;
  /** `ip -4 -j netconf show`: where ip_forward is read. */
  netconf: string;
}

/** The argv whose stdout {@link buildKernelView} reads, by output. Read-only commands only. */
export const KERNEL_VIEW_COMMANDS: Readonly<Record<keyof KernelViewOutputs, readonly string[]>> = {
  addr: ["ip", "-j", "-d", "addr", "show"],
  route: ["ip", "-j", "route", "show"],
  bridgeLink: ["bridge", "-j", "link", "show"],
  fdb: ["bridge", "-j", "fdb", "show"],
  iptablesSave: ["iptables-save"],
  // `net.ipv4.ip_forward` is the same switch as `net.ipv4.conf.all.forwarding`, which netconf
  // prints as its `all` entry: read through `ip`, already allowed, instead of widening the
  // runner's sysctl allow-list (root) with a read form.
  netconf: ["ip", "-4", "-j", "netconf", "show"],
};

/** One neighbour (ARP) entry (`ip -j neigh show`, what `arp -n` shows). */
export interface KernelNeighbour {
  address: string;
  dev?: string;
  /** Lowercase MAC; absent for an entry still resolving or failed. */
  mac?: string;
  /** NUD states in lowercase: `reachable`, `stale`, `permanent`, `failed`, ... */
  state: string[];
}

/** The kernel truth of one node (a sandbox): interfaces, routes, neighbours. */
export interface NodeKernelView {
  interfaces: KernelInterface[];
  routes: KernelRoute[];
  neighbours: KernelNeighbour[];
}

/** What the commands of {@link NODE_KERNEL_VIEW_COMMANDS} printed. */
export interface NodeKernelViewOutputs {
  addr: string;
  route: string;
  neigh: string;
}

/** The read-only argv whose stdout {@link buildNodeKernelView} reads, run inside the node. */
export const NODE_KERNEL_VIEW_COMMANDS: Readonly<Record<keyof NodeKernelViewOutputs, readonly string[]>> = {
  addr: KERNEL_VIEW_COMMANDS.addr,
  route: KERNEL_VIEW_COMMANDS.route,
  neigh: ["ip", "-j", "neigh", "show"],
};

/** The view of a node from the outputs of {@link NODE_KERNEL_VIEW_COMMANDS}. */
export function buildNodeKernelView(outputs: NodeKernelViewOutputs): NodeKernelView {
  return {
    interfaces: parseKernelInterfaces(outputs.addr),
    routes: parseKernelRoutes(outputs.route),
    neighbours: parseKernelNeighbours(outputs.neigh),
  };
}

/** Entries of `ip -j neigh show`. */
export function parseKernelNeighbours(text: string): KernelNeighbour[] {
  const documents = parseJsonDocuments(text);
  if (documents.length === 0) {
    return [];
  }
  return records(documents[0], "neighbours").flatMap((record) => {
    const address = str(record, "dst");
    if (address === undefined) {
      return [];
    }
    const state = Array.isArray(record.state)
      ? record.state.filter((s): s is string => typeof s === "string").map((s) => s.toLowerCase())
      : [];
    const entry: KernelNeighbour = { address, state };
    assignDefined(entry, "dev", str(record, "dev"));
    const mac = str(record, "lladdr");
    assignDefined(entry, "mac", mac?.toLowerCase());
    return [entry];
  });
}

/** Labnet's chains, in every table (names.ts builds them; iptables-applied.ts matches them the same way). */
const LABNET_CHAIN = /^LABNET-/;

function isLabnetChain(name: string): boolean {
  return LABNET_CHAIN.test(name);
}

/** The tables whose Labnet rules the view shows. */
const RULE_TABLES = ["nat", "filter", "raw"] as const;

/**
 * The view of one namespace from the outputs of {@link KERNEL_VIEW_COMMANDS}.
 *
 * @example
 * const view = buildKernelView({ addr, route, bridgeLink, fdb, iptablesSave, netconf });
 * view.bridges[0]?.ports.map((p) => p.name) // ["lnvabcdefghij"]
 */
export function buildKernelView(outputs: KernelViewOutputs): KernelView {
  const links = readLinks(outputs.addr);
  return {
    interfaces: links.map((link) => link.view),
    routes: parseKernelRoutes(outputs.route),
    bridges: toBridges(links, outputs.bridgeLink),
    fdb: parseFdbEntries(outputs.fdb),
    iptables: filterLabnetRules(outputs.iptablesSave),
    sysctls: { ipForward: parseIpForward(outputs.netconf) },
  };
}

/** Interfaces of `ip -j -d addr show`, IPv4 and IPv6 addresses included. */
export function parseKernelInterfaces(text: string): KernelInterface[] {
  return readLinks(text).map((link) => link.view);
}

/**
 * Bridges of `ip -j -d addr show` (or `link show`) with their ports: port names from the
 * links' masters (so a bridge without ports shows too), STP port states from
 * `bridge -j link show`, hairpin from the port's bridge data.
 */
export function parseKernelBridges(addrJson: string, bridgeLinkJson: string): KernelBridge[] {
  return toBridges(readLinks(addrJson), bridgeLinkJson);
}

interface ReadLink {
  view: KernelInterface;
  /** `linkinfo.info_data` of a bridge. */
  bridge?: { id?: string; stp: boolean };
  hairpin?: boolean;
}

function readLinks(text: string): ReadLink[] {
  const links = parseIpAddrJson(text);
  const raw = records(parseJsonDocuments(text)[0], "links");
  return links.map((link, i) => {
    const record = raw[i] ?? {};
    const view: KernelInterface = {
      name: link.name,
      index: link.index,
      up: link.up,
      operState: (str(record, "operstate") ?? "unknown").toLowerCase(),
      mtu: link.mtu,
      addresses: toAddresses(record.addr_info),
    };
    assignDefined(view, "kind", link.kind);
    assignDefined(view, "mac", link.mac === "" ? undefined : link.mac);
    assignDefined(view, "master", link.master);
    assignDefined(view, "link", str(record, "link"));
    const data = infoData(record);
    if (link.kind === "vxlan" && data !== undefined) {
      assignDefined(view, "vxlan", toVxlan(data));
    }
    const read: ReadLink = { view };
    if (link.kind === "bridge") {
      const bridge: { id?: string; stp: boolean } = { stp: (data?.stp_state ?? 0) !== 0 };
      assignDefined(bridge, "id", data === undefined ? undefined : str(data, "bridge_id"));
      read.bridge = bridge;
    }
    assignDefined(read, "hairpin", link.hairpin);
    return read;
  });
}

function toBridges(links: readonly ReadLink[], bridgeLinkJson: string): KernelBridge[] {
  const portState = new Map<string, string>();
  const documents = parseJsonDocuments(bridgeLinkJson);
  for (const record of documents.length === 0 ? [] : records(documents[0], "bridge links")) {
    const name = str(record, "ifname");
    const state = str(record, "state");
    if (name !== undefined && state !== undefined) {
      portState.set(name, state);
    }
  }
  const bridges: KernelBridge[] = [];
  for (const { view, bridge: info } of links) {
    if (info === undefined) {
      continue;
    }
    const ports = links
      .filter((link) => link.view.master === view.name)
      .map((link) => {
        const port: KernelBridgePort = { name: link.view.name };
        assignDefined(port, "state", portState.get(link.view.name));
        assignDefined(port, "hairpin", link.hairpin);
        return port;
      });
    const bridge: KernelBridge = { name: view.name, stp: info.stp, ports };
    assignDefined(bridge, "id", info.id);
    bridges.push(bridge);
  }
  return bridges;
}

/** Routes of `ip -j route show` with protocol, scope, preferred source and metric. */
export function parseKernelRoutes(text: string): KernelRoute[] {
  const routes = parseIpRouteJson(text);
  const raw = records(parseJsonDocuments(text)[0], "routes");
  return routes.map((route, i) => {
    const record = raw[i] ?? {};
    const view: KernelRoute = { dst: route.dst };
    assignDefined(view, "gateway", route.gateway);
    assignDefined(view, "dev", route.dev);
    assignDefined(view, "protocol", str(record, "protocol"));
    assignDefined(view, "scope", str(record, "scope"));
    assignDefined(view, "prefsrc", str(record, "prefsrc"));
    assignDefined(view, "metric", num(record, "metric"));
    assignDefined(view, "type", str(record, "type"));
    return view;
  });
}

/**
 * Entries of `bridge -j fdb show` worth showing: learned and static ones, and every entry that
 * names a remote (`dst`, vxlan). The permanent entries the kernel makes for each port's own
 * MAC and for multicast groups are left out.
 */
export function parseFdbEntries(text: string): KernelFdbEntry[] {
  const documents = parseJsonDocuments(text);
  if (documents.length === 0) {
    return [];
  }
  const entries: KernelFdbEntry[] = [];
  for (const record of records(documents[0], "fdb entries")) {
    const mac = str(record, "mac");
    const device = str(record, "ifname");
    if (mac === undefined || device === undefined) {
      throw new Error("bridge JSON: an fdb entry without mac or ifname");
    }
    const rawState = str(record, "state") ?? "";
    const dst = str(record, "dst");
    if (rawState === "permanent" && dst === undefined) {
      continue;
    }
    const flags = Array.isArray(record.flags) ? record.flags : [];
    const entry: KernelFdbEntry = {
      mac: mac.toLowerCase(),
      device,
      state: rawState === "" ? "dynamic" : rawState,
      self: flags.includes("self"),
    };
    assignDefined(entry, "master", str(record, "master"));
    assignDefined(entry, "dst", dst);
    assignDefined(entry, "vlan", num(record, "vlan"));
    entries.push(entry);
  }
  return entries;
}

/**
 * Labnet's part of an `iptables-save` output, per table: the table header, the declarations
 * and rules of Labnet's chains (`LABNET-*`), the rules of built-in chains that jump to them,
 * and `COMMIT`; "" for a table with none. Other programs' chains and rules are left out.
 *
 * @example
 * filterLabnetRules(save).nat
 * // "*nat\n:LABNET-POSTROUTING - [0:0]\n-A POSTROUTING -j LABNET-POSTROUTING\n...COMMIT\n"
 */
export function filterLabnetRules(iptablesSave: string): LabnetRules {
  const kept = new Map<string, string[]>();
  for (const [table, tableLines] of readIptablesTables(iptablesSave)) {
    const builtIn = new Set(
      tableLines.flatMap((l) => (l.kind === "chain" && l.policy !== "-" ? [l.chain] : [])),
    );
    const lines = tableLines.flatMap((line) => {
      const ours =
        (line.kind === "chain" && line.policy === "-" && isLabnetChain(line.chain)) ||
        (line.kind === "rule" &&
          (isLabnetChain(line.chain) ||
            (builtIn.has(line.chain) && line.target !== undefined && isLabnetChain(line.target))));
      return ours ? [line.text] : [];
    });
    if (lines.length > 0) {
      kept.set(table, [`*${table}`, ...lines, "COMMIT"]);
    }
  }
  const text = (name: string) => {
    const tableLines = kept.get(name);
    return tableLines === undefined ? "" : `${tableLines.join("\n")}\n`;
  };
  return { nat: text(RULE_TABLES[0]), filter: text(RULE_TABLES[1]), raw: text(RULE_TABLES[2]) };
}

/**
 * `net.ipv4.ip_forward` from `ip -4 -j netconf show`: the `forwarding` of its `all` entry
 * (the kernel keeps the two as one setting).
 */
export function parseIpForward(netconfJson: string): boolean {
  const documents = parseJsonDocuments(netconfJson);
  const all = records(documents[0] ?? [], "netconf entries").find((entry) => entry.interface === "all");
  if (all === undefined || typeof all.forwarding !== "boolean") {
    throw new Error("ip netconf: no `all` entry with a boolean forwarding");
  }
  return all.forwarding;
}

function toAddresses(addrInfo: unknown): KernelAddress[] {
  if (!Array.isArray(addrInfo)) {
    return [];
  }
  const addresses: KernelAddress[] = [];
  for (const entry of addrInfo) {
    const record = asRecord(entry, "addr_info entry");
    const family = record.family;
    const local = str(record, "local");
    const prefixLength = num(record, "prefixlen");
    if ((family !== "inet" && family !== "inet6") || local === undefined || prefixLength === undefined) {
      continue;
    }
    addresses.push({ family, address: local, prefixLength, scope: str(record, "scope") ?? "global" });
  }
  return addresses;
}

function infoData(record: Record<string, unknown>): Record<string, unknown> | undefined {
  const linkinfo = record.linkinfo === undefined ? undefined : asRecord(record.linkinfo, "linkinfo");
  return linkinfo?.info_data === undefined ? undefined : asRecord(linkinfo.info_data, "linkinfo.info_data");
}

function toVxlan(data: Record<string, unknown>): KernelInterface["vxlan"] {
  const vni = num(data, "id");
  if (vni === undefined) {
    return undefined;
  }
  const vxlan: NonNullable<KernelInterface["vxlan"]> = { vni };
  assignDefined(vxlan, "port", num(data, "port"));
  assignDefined(vxlan, "device", str(data, "link"));
  return vxlan;
}

function records(document: unknown, what: string): Record<string, unknown>[] {
  if (!Array.isArray(document)) {
    throw new Error(`JSON: ${what} is not an array`);
  }
  return document.map((entry) => asRecord(entry, what));
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`JSON: an entry of ${what} is not an object`);
  }
  return value as Record<string, unknown>;
}

function str(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === "string" ? value : undefined;
}

function num(record: Record<string, unknown>, key: string): number | undefined {
  const value = record[key];
  return typeof value === "number" ? value : undefined;
}

/** Sets `target[key]` only when `value` is defined (exactOptionalPropertyTypes-friendly). */
function assignDefined<T extends object, K extends keyof T>(
  target: T,
  key: K,
  value: T[K] | undefined,
): void {
  if (value !== undefined) {
    target[key] = value;
  }
}
