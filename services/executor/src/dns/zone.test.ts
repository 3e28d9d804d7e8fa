import type { ResolverHost, ResolverNode } from "@labnet/netplan";
import { describe, expect, it } from "vitest";
import { buildDnsZone, type DnsDecision, decideDnsAnswer, listenAddressesOf } from "./zone";

function node(
  name: string,
  endpoints: [networkId: string, address: string, aliases?: string[]][],
  servers: string[] = [],
): ResolverNode {
  const gateways: Record<string, string> = {
    net_bridge: "172.17.0.1",
    net_web: "172.18.0.1",
    net_app: "172.19.0.1",
  };
  return {
    nodeId: `nod_${name}`,
    name,
    netns: `ln-${name}`,
    hostname: undefined,
    dns: { servers, search: [], options: [] },
    extraHosts: {},
    endpoints: endpoints.map(([networkId, address, aliases = []]) => ({
      networkId,
      address,
      gateway: gateways[networkId],
      aliases,
    })),
  };
}

// Seed 001 exercise 2 after `docker network connect app web_container`, plus a bystander.
const state: ResolverHost = {
  networks: [
    {
      networkId: "net_bridge",
      name: "bridge",
      gateways: ["172.17.0.1"],
      subnets: ["172.17.0.0/16"],
      dns: false,
    },
    { networkId: "net_web", name: "web", gateways: ["172.18.0.1"], subnets: ["172.18.0.0/16"], dns: true },
    { networkId: "net_app", name: "App", gateways: ["172.19.0.1"], subnets: ["172.19.0.0/16"], dns: true },
  ],
  nodes: [
    node("web_container", [
      ["net_web", "172.18.0.2", ["www"]],
      ["net_app", "172.19.0.3"],
    ]),
    node("app_container", [["net_app", "172.19.0.2", ["db", "cache"]]], ["192.0.2.53"]),
    node("replica", [["net_app", "172.19.0.4", ["db"]]]),
    node("plain", [["net_bridge", "172.17.0.2"]]),
  ],
};
const zone = buildDnsZone(state, { nameservers: ["10.0.0.2", "172.18.0.1"], search: [], options: [] });

const fromApp = { localAddress: "172.19.0.1", sourceAddress: "172.19.0.2" };
const fromWeb = { localAddress: "172.18.0.1", sourceAddress: "172.18.0.2" };

describe("decideDnsAnswer", () => {
  const cases: {
    name: string;
    given: { localAddress: string; sourceAddress: string; name: string; type?: string };
    want: DnsDecision;
  }[] = [
    {
      name: "seed 001: app_container pings web_container.app",
      given: { ...fromApp, name: "web_container.app" },
      want: { kind: "addresses", addresses: ["172.19.0.3"] },
    },
    {
      name: "seed 001: app_container.web from web_container before app_container joins web",
      given: { ...fromWeb, name: "app_container.web" },
      want: { kind: "nxdomain" },
    },
    {
      name: "plain name on a shared network",
      given: { ...fromApp, name: "web_container" },
      want: { kind: "addresses", addresses: ["172.19.0.3"] },
    },
    {
      name: "a node on two networks sees both (arrival network first)",
      given: { ...fromWeb, name: "app_container" },
      want: { kind: "addresses", addresses: ["172.19.0.2"] },
    },
    {
      name: "names are case-insensitive, a trailing dot is the same name",
      given: { ...fromApp, name: "WEB_Container.APP." },
      want: { kind: "addresses", addresses: ["172.19.0.3"] },
    },
    {
      name: "alias on its network",
      given: { ...fromWeb, name: "www" },
      want: { kind: "addresses", addresses: ["172.18.0.2"] },
    },
    {
      name: "alias.network",
      given: { ...fromWeb, name: "cache.app" },
      want: { kind: "addresses", addresses: ["172.19.0.2"] },
    },
    {
      name: "an alias two nodes share answers both",
      given: { ...fromApp, name: "db" },
      want: { kind: "addresses", addresses: ["172.19.0.2", "172.19.0.4"] },
    },
    {
      name: "an alias is only on the network it was given for",
      given: { ...fromApp, name: "www" },
      want: { kind: "nxdomain" },
    },
    {
      name: "a node of a network the asker is not on",
      given: { ...fromApp, name: "www.web" },
      want: { kind: "nxdomain" },
    },
    {
      name: "the default bridge has no names",
      given: { ...fromApp, name: "plain" },
      want: { kind: "nxdomain" },
    },
    {
      name: "a source outside the arrival network is refused (no open resolver)",
      given: { localAddress: "172.18.0.1", sourceAddress: "198.18.50.2", name: "web_container" },
      want: { kind: "refused" },
    },
    {
      name: "a query on an address that is not a gateway is refused",
      given: { localAddress: "172.17.0.1", sourceAddress: "172.17.0.2", name: "plain" },
      want: { kind: "refused" },
    },
    {
      name: "an unknown source sees the arrival network only",
      given: { localAddress: "172.18.0.1", sourceAddress: "172.18.0.99", name: "app_container" },
      want: { kind: "nxdomain" },
    },
    {
      name: "AAAA of a known name is an empty answer",
      given: { ...fromApp, name: "web_container", type: "AAAA" },
      want: { kind: "addresses", addresses: [] },
    },
    {
      name: "PTR of a visible endpoint",
      given: { ...fromApp, name: "3.0.19.172.in-addr.arpa", type: "PTR" },
      want: { kind: "ptr", name: "web_container.app" },
    },
    {
      name: "PTR in a Labnet subnet but not visible",
      given: { ...fromApp, name: "2.0.17.172.in-addr.arpa", type: "PTR" },
      want: { kind: "nxdomain" },
    },
    {
      name: "PTR of an outside address goes upstream",
      given: { ...fromWeb, name: "8.8.8.8.in-addr.arpa", type: "PTR" },
      want: { kind: "forward", servers: ["10.0.0.2"] },
    },
    {
      name: "dotted unknown name: the node's own servers",
      given: { ...fromApp, name: "example.org" },
      want: { kind: "forward", servers: ["192.0.2.53"] },
    },
    {
      name: "dotted unknown name: else the host's, without Labnet's own addresses",
      given: { ...fromWeb, name: "example.org" },
      want: { kind: "forward", servers: ["10.0.0.2"] },
    },
    {
      name: "a name under a network without name resolution is still Labnet's",
      given: { ...fromWeb, name: "plain.bridge" },
      want: { kind: "nxdomain" },
    },
  ];
  it.each(cases)("$name", ({ given, want }) => {
    expect(decideDnsAnswer(zone, { type: "A", ...given })).toEqual(want);
  });

  it("answers SERVFAIL when there is nowhere to forward", () => {
    const bare = buildDnsZone(state, { nameservers: [], search: [], options: [] });
    expect(decideDnsAnswer(bare, { ...fromWeb, name: "example.org", type: "A" })).toEqual({
      kind: "servfail",
    });
  });
});

describe("listenAddressesOf", () => {
  it("lists the gateways of networks with name resolution", () => {
    expect(listenAddressesOf(zone)).toEqual(["172.18.0.1", "172.19.0.1"]);
  });
});
