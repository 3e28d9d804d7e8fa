import { describe, expect, it } from "vitest";
import {
  embeddedDnsOf,
  type HostResolvConf,
  parseResolvConf,
  type ResolverNetwork,
  type ResolverNode,
  renderHostsFile,
  renderResolvConf,
  renderResolverFiles,
} from "./resolver-files";

const HEADER = (name: string) => `# Written by Labnet for node ${name}; rewritten on every change.`;
const LOCALHOST = [
  "127.0.0.1\tlocalhost",
  "::1\tlocalhost ip6-localhost ip6-loopback",
  "fe00::0\tip6-localnet",
  "ff00::0\tip6-mcastprefix",
  "ff02::1\tip6-allnodes",
  "ff02::2\tip6-allrouters",
];

const networks: ResolverNetwork[] = [
  {
    networkId: "net_bridge",
    name: "bridge",
    gateways: ["172.17.0.1"],
    subnets: ["172.17.0.0/16"],
    dns: false,
  },
  { networkId: "net_web", name: "web", gateways: ["172.18.0.1"], subnets: ["172.18.0.0/16"], dns: true },
  { networkId: "net_app", name: "app", gateways: ["172.19.0.1"], subnets: ["172.19.0.0/16"], dns: true },
];

const hostConf: HostResolvConf = { nameservers: ["10.0.0.2"], search: ["corp.example"], options: ["rotate"] };

function node(overrides: Partial<ResolverNode> = {}): ResolverNode {
  return {
    nodeId: "nod_a",
    name: "web_container",
    netns: "ln-a",
    hostname: undefined,
    dns: { servers: [], search: [], options: [] },
    extraHosts: {},
    endpoints: [{ networkId: "net_web", address: "172.18.0.2", gateway: "172.18.0.1", aliases: [] }],
    ...overrides,
  };
}

const onBridge = [{ networkId: "net_bridge", address: "172.17.0.2", gateway: "172.17.0.1", aliases: [] }];

describe("parseResolvConf", () => {
  const cases: { name: string; given: string; want: HostResolvConf }[] = [
    {
      name: "systemd stub only",
      given: "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n",
      want: { nameservers: [], search: ["."], options: ["edns0", "trust-ad"] },
    },
    {
      name: "servers, loopback dropped, comments ignored",
      given: "# hi\nnameserver 10.0.0.2 # main\nnameserver 127.0.0.1\nnameserver 10.0.0.3\n; x\n",
      want: { nameservers: ["10.0.0.2", "10.0.0.3"], search: [], options: [] },
    },
    {
      name: "IPv6 servers are left out (nodes are IPv4)",
      given: "nameserver fd00::1\nnameserver 192.0.2.53\n",
      want: { nameservers: ["192.0.2.53"], search: [], options: [] },
    },
    {
      name: "last search/domain line wins, options accumulate",
      given: "domain a.example\nsearch b.example c.example\noptions ndots:2\noptions timeout:1\n",
      want: { nameservers: [], search: ["b.example", "c.example"], options: ["ndots:2", "timeout:1"] },
    },
    { name: "empty", given: "", want: { nameservers: [], search: [], options: [] } },
  ];
  it.each(cases)("$name", ({ given, want }) => {
    expect(parseResolvConf(given)).toEqual(want);
  });
});

describe("embeddedDnsOf", () => {
  const cases: { name: string; given: ResolverNode; want: string | undefined }[] = [
    { name: "user-defined network", given: node(), want: "172.18.0.1" },
    { name: "default bridge only", given: node({ endpoints: onBridge }), want: undefined },
    {
      name: "bridge first, then app: the first network with DNS",
      given: node({
        endpoints: [
          ...onBridge,
          { networkId: "net_app", address: "172.19.0.2", gateway: "172.19.0.1", aliases: [] },
        ],
      }),
      want: "172.19.0.1",
    },
    { name: "mode none", given: node({ endpoints: [] }), want: undefined },
  ];
  it.each(cases)("$name", ({ given, want }) => {
    expect(embeddedDnsOf(given, networks)).toBe(want);
  });
});

describe("renderResolvConf", () => {
  const cases: { name: string; given: ResolverNode; want: string[] }[] = [
    {
      name: "user-defined network: the responder on the gateway, ndots:0, no host search",
      given: node(),
      want: ["nameserver 172.18.0.1", "options ndots:0"],
    },
    {
      name: "user-defined network with the node's search and options",
      given: node({ dns: { servers: ["192.0.2.53"], search: ["lab.example"], options: ["timeout:1"] } }),
      want: ["nameserver 172.18.0.1", "search lab.example", "options ndots:0 timeout:1"],
    },
    {
      name: "the node's own ndots wins",
      given: node({ dns: { servers: [], search: [], options: ["ndots:3"] } }),
      want: ["nameserver 172.18.0.1", "options ndots:3"],
    },
    {
      name: "default bridge: the host's resolvers, search and options",
      given: node({ endpoints: onBridge }),
      want: ["nameserver 10.0.0.2", "search corp.example", "options rotate"],
    },
    {
      name: "default bridge with --dns: the node's, each field on its own",
      given: node({
        endpoints: onBridge,
        dns: { servers: ["192.0.2.53", "192.0.2.54"], search: [], options: [] },
      }),
      want: ["nameserver 192.0.2.53", "nameserver 192.0.2.54", "search corp.example", "options rotate"],
    },
    {
      name: "mode none: only what the node was given",
      given: node({ endpoints: [], dns: { servers: ["192.0.2.53"], search: [], options: [] } }),
      want: ["nameserver 192.0.2.53"],
    },
    { name: "mode none without settings", given: node({ endpoints: [] }), want: [] },
  ];
  it.each(cases)("$name", ({ given, want }) => {
    expect(renderResolvConf(given, networks, hostConf)).toBe(
      `${[HEADER("web_container"), ...want].join("\n")}\n`,
    );
  });
});

describe("renderHostsFile", () => {
  const cases: { name: string; given: ResolverNode; want: string[] }[] = [
    { name: "default hostname is the node name", given: node(), want: ["172.18.0.2\tweb_container"] },
    { name: "hostname", given: node({ hostname: "web1" }), want: ["172.18.0.2\tweb1"] },
    {
      name: "hostname with a domain also gets its short name",
      given: node({ hostname: "web1.lab.example" }),
      want: ["172.18.0.2\tweb1.lab.example web1"],
    },
    {
      name: "extra hosts sorted by name, host-gateway is the first network's gateway",
      given: node({ extraHosts: { "z.example": "192.0.2.9", "host.docker.internal": "host-gateway" } }),
      want: ["172.18.0.1\thost.docker.internal", "192.0.2.9\tz.example", "172.18.0.2\tweb_container"],
    },
    {
      name: "mode none: no own line, host-gateway left out",
      given: node({ endpoints: [], extraHosts: { gw: "host-gateway", db: "192.0.2.7" } }),
      want: ["192.0.2.7\tdb"],
    },
  ];
  it.each(cases)("$name", ({ given, want }) => {
    expect(renderHostsFile(given)).toBe(`${[HEADER("web_container"), ...LOCALHOST, ...want].join("\n")}\n`);
  });
});

describe("renderResolverFiles", () => {
  it("renders nodes with a sandbox of their own, sorted by netns", () => {
    const files = renderResolverFiles(
      {
        networks,
        nodes: [node({ netns: "ln-b", name: "b" }), node({ netns: undefined, name: "shared" }), node()],
      },
      hostConf,
    );
    expect(files.map((f) => f.netns)).toEqual(["ln-a", "ln-b"]);
    expect(files[1]?.hosts).toContain("172.18.0.2\tb\n");
  });

  const bad: { name: string; given: Partial<ResolverNode> }[] = [
    { name: "newline in a hostname", given: { hostname: "a\nnameserver 1.2.3.4" } },
    { name: "space in a search domain", given: { dns: { servers: [], search: ["a b"], options: [] } } },
    { name: "comment in an extra host", given: { extraHosts: { "a#b": "192.0.2.1" } } },
    { name: "newline in the node name", given: { name: "a\nb" } },
    {
      name: "a name server that is a name",
      given: { dns: { servers: ["evil.example"], search: [], options: [] } },
    },
    { name: "an extra host to a name", given: { extraHosts: { db: "evil.example" } } },
  ];
  it.each(bad)("refuses $name", ({ given }) => {
    expect(() => renderResolverFiles({ networks, nodes: [node(given)] }, hostConf)).toThrow(/refusing/);
  });
});
