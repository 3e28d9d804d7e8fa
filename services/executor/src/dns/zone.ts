/**
 * The names the DNS responder answers, per network, and the decision for one question.
 * Pure: built from the resolver state after every converge, consulted per query.
 */
import { type Cidr, cidrContains, parseCidr, parseIpv4 } from "@labnet/ipam";
import type { HostResolvConf, ResolverHost } from "@labnet/netplan";

/** What a node sees: the networks it is on (with name resolution) and where its unknown names go. */
interface Querier {
  /** Network ids in the node's attach order. */
  networkIds: string[];
  /** The node's own `dns.servers`; empty means the host's. */
  servers: string[];
}

interface ZoneNetwork {
  networkId: string;
  /** Lowercase. */
  name: string;
  /** Lowercase node name or alias → addresses. */
  records: Map<string, string[]>;
  /** Address → `<node>.<network>` (Docker's reverse answer). */
  reverse: Map<string, string>;
  /** Only addresses in these may ask (the responder is no open resolver for the host's neighbours). */
  subnets: Cidr[];
}

/** The in-memory zone of one host. */
export interface DnsZone {
  /** Networks with name resolution, by id. */
  networks: Map<string, ZoneNetwork>;
  /** Gateway address → network id: the address a query arrives on tells which network asked. */
  networkByGateway: Map<string, string>;
  /** `<networkId> <address>` → the node with that endpoint. */
  queriers: Map<string, Querier>;
  /** Lowercase names of every Labnet network on the host (with or without name resolution). */
  allNetworkNames: Set<string>;
  /** Subnets of every Labnet network on the host, for reverse lookups that stay local. */
  subnets: Cidr[];
  /** The host's resolvers (loopback and Labnet's own addresses left out). */
  hostServers: string[];
}

/** What to do with one question. */
export type DnsDecision =
  /** Answer with these IPv4 addresses; empty = the name exists but has no record of this type. */
  | { kind: "addresses"; addresses: string[] }
  | { kind: "ptr"; name: string }
  | { kind: "nxdomain" }
  /** Not Labnet's: ask these servers in turn. */
  | { kind: "forward"; servers: string[] }
  /** Not Labnet's and nowhere to ask. */
  | { kind: "servfail" }
  /** The asker is not on the network the query arrived on. */
  | { kind: "refused" };

export interface DnsQuestion {
  /** The gateway address the query arrived on. */
  localAddress: string;
  /** The address it came from. */
  sourceAddress: string;
  name: string;
  type: string;
}

const EMPTY_ZONE: DnsZone = {
  networks: new Map(),
  networkByGateway: new Map(),
  queriers: new Map(),
  allNetworkNames: new Set(),
  subnets: [],
  hostServers: [],
};

/** A zone with no names: every question is forwarded to nowhere (SERVFAIL) or NXDOMAIN. */
export function emptyZone(): DnsZone {
  return EMPTY_ZONE;
}

/**
 * Builds the zone: for each network with name resolution, each node on it by its name, its
 * aliases on that network, and (in lookups) `name.network`.
 */
export function buildDnsZone(state: ResolverHost, hostResolvConf: HostResolvConf): DnsZone {
  const networks = new Map<string, ZoneNetwork>();
  const networkByGateway = new Map<string, string>();
  for (const network of state.networks) {
    if (!network.dns) {
      continue;
    }
    networks.set(network.networkId, {
      networkId: network.networkId,
      name: network.name.toLowerCase(),
      records: new Map(),
      reverse: new Map(),
      subnets: parseSubnets(network.subnets),
    });
    for (const gateway of network.gateways) {
      networkByGateway.set(gateway, network.networkId);
    }
  }

  const queriers = new Map<string, Querier>();
  for (const node of state.nodes) {
    const onDns = node.endpoints.filter((e) => networks.has(e.networkId));
    const querier: Querier = { networkIds: onDns.map((e) => e.networkId), servers: node.dns.servers };
    for (const endpoint of onDns) {
      const network = networks.get(endpoint.networkId);
      if (network === undefined) {
        continue;
      }
      queriers.set(`${endpoint.networkId} ${endpoint.address}`, querier);
      for (const name of new Set([node.name, ...endpoint.aliases].map((n) => n.toLowerCase()))) {
        const addresses = network.records.get(name) ?? [];
        if (!addresses.includes(endpoint.address)) {
          addresses.push(endpoint.address);
        }
        network.records.set(name, addresses);
      }
      network.reverse.set(endpoint.address, `${node.name.toLowerCase()}.${network.name}`);
    }
  }

  const own = new Set(networkByGateway.keys());
  return {
    networks,
    networkByGateway,
    queriers,
    allNetworkNames: new Set(state.networks.map((n) => n.name.toLowerCase())),
    subnets: parseSubnets(state.networks.flatMap((n) => n.subnets)),
    hostServers: hostResolvConf.nameservers.filter((s) => !own.has(s)),
  };
}

/** The addresses the responder listens on (every gateway of a network with name resolution). */
export function listenAddressesOf(zone: DnsZone): string[] {
  return [...zone.networkByGateway.keys()].sort();
}

/**
 * Decides the answer to one question, Docker's embedded DNS adapted:
 * - only addresses of the network the query arrived on may ask (REFUSED otherwise: the
 *   gateway is reachable from the host's neighbours too, and must not be an open resolver);
 * - the asking node (found by its source address on the network the query arrived on) sees
 *   the networks it is on, in attach order; an unknown source sees that network only;
 * - a name is a node name or an alias on one of those networks, or `<name>.<network>` for
 *   one of them; A gets the addresses, any other type an empty answer;
 * - PTR of an address of a visible endpoint gets `<node>.<network>`;
 * - anything else that is plainly Labnet's (no dot, ending in `.<a network of this host>`,
 *   a reverse name in a Labnet subnet) is NXDOMAIN at once; the rest goes to the node's own
 *   servers, else the host's, else SERVFAIL.
 */
export function decideDnsAnswer(zone: DnsZone, question: DnsQuestion): DnsDecision {
  const arrivedOn = zone.networks.get(zone.networkByGateway.get(question.localAddress) ?? "");
  const source = parseIpv4(question.sourceAddress);
  if (
    arrivedOn === undefined ||
    source === undefined ||
    !arrivedOn.subnets.some((s) => cidrContains(s, source))
  ) {
    return { kind: "refused" };
  }
  const querier = zone.queriers.get(`${arrivedOn.networkId} ${question.sourceAddress}`);
  const visible = (querier?.networkIds ?? [arrivedOn.networkId])
    .map((id) => zone.networks.get(id))
    .filter((n): n is ZoneNetwork => n !== undefined);
  const name = question.name.toLowerCase().replace(/\.$/, "");
  const type = question.type.toUpperCase();

  if (type === "PTR") {
    const address = addressOfReverseName(name);
    if (address !== undefined) {
      for (const network of visible) {
        const target = network.reverse.get(address);
        if (target !== undefined) {
          return { kind: "ptr", name: target };
        }
      }
      const number = parseIpv4(address);
      if (number !== undefined && zone.subnets.some((subnet) => cidrContains(subnet, number))) {
        return { kind: "nxdomain" };
      }
    }
  } else {
    const addresses = lookUp(visible, name);
    if (addresses !== undefined) {
      return { kind: "addresses", addresses: type === "A" || type === "ANY" ? addresses : [] };
    }
  }

  if (!name.includes(".") || [...zone.allNetworkNames].some((n) => name.endsWith(`.${n}`))) {
    return { kind: "nxdomain" };
  }
  const servers = querier !== undefined && querier.servers.length > 0 ? querier.servers : zone.hostServers;
  const own = zone.networkByGateway;
  const upstream = servers.filter((s) => !own.has(s));
  return upstream.length > 0 ? { kind: "forward", servers: upstream } : { kind: "servfail" };
}

function lookUp(visible: readonly ZoneNetwork[], name: string): string[] | undefined {
  for (const network of visible) {
    const addresses = network.records.get(name);
    if (addresses !== undefined) {
      return addresses;
    }
  }
  for (const network of visible) {
    const suffix = `.${network.name}`;
    if (name.endsWith(suffix)) {
      const addresses = network.records.get(name.slice(0, -suffix.length));
      if (addresses !== undefined) {
        return addresses;
      }
    }
  }
  return undefined;
}

function parseSubnets(subnets: readonly string[]): Cidr[] {
  return subnets.flatMap((subnet) => {
    const parsed = parseCidr(subnet);
    return parsed.ok ? [parsed.cidr] : [];
  });
}

/** `4.3.2.1.in-addr.arpa` → `1.2.3.4`. */
function addressOfReverseName(name: string): string | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  if (!match) {
    return undefined;
  }
  const octets = match.slice(1, 5).reverse();
  return octets.every((o) => Number(o) <= 255 && String(Number(o)) === o) ? octets.join(".") : undefined;
}
