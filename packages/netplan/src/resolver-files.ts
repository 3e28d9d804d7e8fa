/**
 * Name resolution inputs of one host, and the per-node files rendered from them:
 * `/etc/netns/<netns>/resolv.conf` and `/etc/netns/<netns>/hosts`, which `ip netns exec`
 * bind-mounts over `/etc/resolv.conf` and `/etc/hosts` for every command it runs in the
 * node. Pure: the executor loads the inputs and writes the files.
 */
import { isIpv4 } from "./validate";

/** A network of the host, as name resolution sees it. */
export interface ResolverNetwork {
  networkId: string;
  name: string;
  /** Gateway addresses (no prefix), one per IPAM config; the DNS responder listens on them. */
  gateways: string[];
  /** Subnets (CIDR), one per IPAM config: only addresses in them may ask the responder. */
  subnets: string[];
  /**
   * Whether its nodes resolve each other by name: user-defined bridge networks. The default
   * `bridge` network has none, as in Docker.
   */
  dns: boolean;
}

/** A node's attachment to a network. */
export interface ResolverEndpoint {
  networkId: string;
  /** Address without prefix. */
  address: string;
  /** Gateway of the IPAM config holding `address`, if any. */
  gateway: string | undefined;
  /** Extra names the node answers to on this network. */
  aliases: string[];
}

/** Resolver settings of a node (`--dns`, `--dns-search`, `--dns-option`). */
export interface ResolverDns {
  servers: string[];
  search: string[];
  options: string[];
}

/** A node of the host, as name resolution sees it. */
export interface ResolverNode {
  nodeId: string;
  name: string;
  /** Its own sandbox namespace; undefined for nodes that share another namespace (host, container:). */
  netns: string | undefined;
  hostname: string | undefined;
  dns: ResolverDns;
  /** `--add-host` entries: name → IPv4 address or `host-gateway`. */
  extraHosts: Record<string, string>;
  /** In attach order (eth0 first). */
  endpoints: ResolverEndpoint[];
}

/** Everything name resolution needs of one host. */
export interface ResolverHost {
  networks: ResolverNetwork[];
  nodes: ResolverNode[];
}

/** What the host's own resolv.conf says, loopback nameservers left out (they mean nothing in a node). */
export interface HostResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
}

/** The two files of one node's `/etc/netns/<netns>/`. */
export interface NodeResolverFiles {
  netns: string;
  resolvConf: string;
  hosts: string;
}

/** `--add-host name:host-gateway` maps to the gateway of the node's first network (Docker's special value). */
export const HOST_GATEWAY = "host-gateway";

const HOSTS_HEADER = [
  "127.0.0.1\tlocalhost",
  "::1\tlocalhost ip6-localhost ip6-loopback",
  "fe00::0\tip6-localnet",
  "ff00::0\tip6-mcastprefix",
  "ff02::1\tip6-allnodes",
  "ff02::2\tip6-allrouters",
];

/**
 * Parses a resolv.conf: nameservers (IPv4 only, loopback dropped: in a node 127.0.0.53
 * is the node's own loopback, where nothing listens), the last `search`/`domain` line
 * and every option. Unknown lines are ignored.
 *
 * @example parseResolvConf("nameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch lab\n")
 * // { nameservers: ["10.0.0.2"], search: ["lab"], options: [] }
 */
export function parseResolvConf(text: string): HostResolvConf {
  const result: HostResolvConf = { nameservers: [], search: [], options: [] };
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[#;].*$/, "").trim();
    const [keyword, ...values] = line.split(/\s+/);
    if (keyword === "nameserver") {
      const server = values[0] ?? "";
      if (isIpv4(server) && !server.startsWith("127.")) {
        result.nameservers.push(server);
      }
    } else if (keyword === "search" || keyword === "domain") {
      result.search = values.filter((v) => v.length > 0);
    } else if (keyword === "options") {
      result.options.push(...values.filter((v) => v.length > 0));
    }
  }
  return result;
}

/**
 * The address of the Labnet DNS responder a node asks: the gateway of its first network
 * that has name resolution, or undefined when it is on none (default bridge only, mode none).
 */
export function embeddedDnsOf(node: ResolverNode, networks: readonly ResolverNetwork[]): string | undefined {
  const withDns = new Set(networks.filter((n) => n.dns).map((n) => n.networkId));
  return node.endpoints.find((e) => withDns.has(e.networkId) && e.gateway !== undefined)?.gateway;
}

/**
 * The node's resolv.conf. On a network with name resolution it asks the Labnet responder
 * (which forwards what it does not know to the node's `dns.servers`, else the host's), with
 * only the node's own search domains and `ndots:0`, so plain names are asked as they are
 * first (Docker does the same for its embedded DNS). Otherwise, like Docker's default bridge,
 * it gets the node's servers/search/options, each falling back to the host's; a node in mode
 * none gets only what it was given.
 */
export function renderResolvConf(
  node: ResolverNode,
  networks: readonly ResolverNetwork[],
  host: HostResolvConf,
): string {
  const embedded = embeddedDnsOf(node, networks);
  let nameservers: string[];
  let search: string[];
  let options: string[];
  if (embedded !== undefined) {
    nameservers = [embedded];
    search = node.dns.search;
    options = node.dns.options.some((o) => o.startsWith("ndots:"))
      ? node.dns.options
      : ["ndots:0", ...node.dns.options];
  } else if (node.endpoints.length === 0) {
    ({ servers: nameservers, search, options } = node.dns);
  } else {
    nameservers = node.dns.servers.length > 0 ? node.dns.servers : host.nameservers;
    search = node.dns.search.length > 0 ? node.dns.search : host.search;
    options = node.dns.options.length > 0 ? node.dns.options : host.options;
  }
  const lines = [`# Written by Labnet for node ${node.name}; rewritten on every change.`];
  lines.push(...nameservers.map((server) => `nameserver ${server}`));
  if (search.length > 0) {
    lines.push(`search ${search.join(" ")}`);
  }
  if (options.length > 0) {
    lines.push(`options ${options.join(" ")}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * The node's hosts file: Docker's localhost lines, the extra hosts (sorted by name;
 * `host-gateway` becomes the gateway of the node's first network, and is left out when it
 * has none), then the node's hostname (default its name) on its first address.
 */
export function renderHostsFile(node: ResolverNode): string {
  const lines = [`# Written by Labnet for node ${node.name}; rewritten on every change.`, ...HOSTS_HEADER];
  const gateway = node.endpoints[0]?.gateway;
  for (const name of Object.keys(node.extraHosts).sort()) {
    const value = node.extraHosts[name];
    const address = value === HOST_GATEWAY ? gateway : value;
    if (address !== undefined) {
      lines.push(`${address}\t${name}`);
    }
  }
  const first = node.endpoints[0];
  if (first !== undefined) {
    const hostname = node.hostname ?? node.name;
    const short = hostname.split(".")[0] ?? hostname;
    lines.push(
      short === hostname ? `${first.address}\t${hostname}` : `${first.address}\t${hostname} ${short}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/**
 * The files of every node that has a sandbox of its own, sorted by netns.
 *
 * @throws when a value that lands in a file could start a line of its own (whitespace,
 * `#`, control characters): the API refuses such values, so one here is a bug or tampering.
 */
export function renderResolverFiles(host: ResolverHost, hostResolvConf: HostResolvConf): NodeResolverFiles[] {
  for (const node of host.nodes) {
    assertFileTokens(node);
  }
  return host.nodes
    .flatMap((node) =>
      node.netns === undefined
        ? []
        : [
            {
              netns: node.netns,
              resolvConf: renderResolvConf(node, host.networks, hostResolvConf),
              hosts: renderHostsFile(node),
            },
          ],
    )
    .sort((a, b) => (a.netns < b.netns ? -1 : a.netns > b.netns ? 1 : 0));
}

const FILE_TOKEN = /^[^\s#;\p{Cc}]{1,253}$/u;

function assertFileTokens(node: ResolverNode): void {
  const tokens = [
    ...(node.hostname !== undefined ? [node.hostname] : []),
    ...node.dns.servers,
    ...node.dns.search,
    ...node.dns.options,
    ...Object.entries(node.extraHosts).flat(),
    ...node.endpoints.flatMap((e) => [e.address, ...(e.gateway !== undefined ? [e.gateway] : [])]),
  ];
  for (const token of tokens) {
    if (!FILE_TOKEN.test(token)) {
      throw new Error(
        `node ${node.nodeId}: refusing to write ${JSON.stringify(token)} into its resolver files`,
      );
    }
  }
  if (/[\s\p{Cc}]/u.test(node.name)) {
    throw new Error(`node ${node.nodeId}: refusing to write its name ${JSON.stringify(node.name)}`);
  }
  // A resolver takes name servers by address, and a hosts line starts with one.
  const addresses = [
    ...node.dns.servers,
    ...Object.values(node.extraHosts).filter((value) => value !== HOST_GATEWAY),
  ];
  for (const address of addresses) {
    if (!isIpv4(address)) {
      throw new Error(`node ${node.nodeId}: refusing to write ${JSON.stringify(address)} as an address`);
    }
  }
}
