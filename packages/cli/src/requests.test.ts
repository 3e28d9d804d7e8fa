import { describe, expect, it } from "vitest";
import {
  defaultLabName,
  labCreateRequest,
  type NetworkCreateFlags,
  type NodeRunFlags,
  networkCreateRequest,
  nodeRunRequest,
  parseKeyValues,
} from "./requests";

const network = (flags: Partial<NetworkCreateFlags>): NetworkCreateFlags => ({
  subnet: [],
  gateway: [],
  ipRange: [],
  auxAddress: [],
  opt: [],
  label: [],
  ...flags,
});

const node = (flags: Partial<NodeRunFlags>): NodeRunFlags => ({
  network: [],
  networkAlias: [],
  publish: [],
  expose: [],
  dns: [],
  dnsSearch: [],
  addHost: [],
  label: [],
  ...flags,
});

describe("parseKeyValues", () => {
  it.each([
    [["course=net101"], { course: "net101" }],
    [["a=b=c"], { a: "b=c" }],
    [["flag"], { flag: "" }],
    [["k=1", "k=2"], { k: "2" }],
  ])("%j → %j", (pairs, want) => {
    expect(parseKeyValues(pairs, "--label")).toEqual(want);
  });

  it("refuses a pair without a key, naming the flag", () => {
    expect(() => parseKeyValues(["=v"], "--label")).toThrow('--label "=v" needs a key, as key=value.');
  });
});

describe("networkCreateRequest", () => {
  it.each<[string, Partial<NetworkCreateFlags>, object]>([
    ["a name alone", {}, { name: "n" }],
    [
      "-d macvlan --opt parent=eth1",
      { driver: "macvlan", opt: ["parent=eth1"] },
      { name: "n", driver: "macvlan", options: { parent: "eth1" } },
    ],
    [
      "typed options",
      { opt: ["mtu=1400", "icc=false", "isolated=true"] },
      { name: "n", options: { mtu: 1400, icc: false, isolated: true } },
    ],
    [
      "subnets with their gateways and ranges, pairwise",
      {
        subnet: ["10.1.0.0/16", "10.2.0.0/16"],
        gateway: ["10.1.0.254"],
        ipRange: ["10.1.5.0/24", "10.2.5.0/24"],
      },
      {
        name: "n",
        ipam: {
          configs: [
            { subnet: "10.1.0.0/16", gateway: "10.1.0.254", ipRange: "10.1.5.0/24" },
            { subnet: "10.2.0.0/16", ipRange: "10.2.5.0/24" },
          ],
        },
      },
    ],
    [
      "aux addresses on the first subnet",
      { subnet: ["10.1.0.0/16"], auxAddress: ["router=10.1.0.2"] },
      { name: "n", ipam: { configs: [{ subnet: "10.1.0.0/16", auxAddresses: { router: "10.1.0.2" } }] } },
    ],
    [
      "--internal --no-attachable --label --host",
      { internal: true, attachable: false, label: ["course=net101"], host: "bdc01" },
      { name: "n", internal: true, attachable: false, labels: { course: "net101" }, host: "bdc01" },
    ],
  ])("%s", (_, flags, want) => {
    expect(networkCreateRequest("n", network(flags))).toEqual(want);
  });

  it.each<[Partial<NetworkCreateFlags>, string]>([
    [{ gateway: ["10.0.0.1"] }, "--gateway and --ip-range go with a --subnet each"],
    [{ subnet: ["10.0.0.0/24"], ipRange: ["10.0.0.0/25", "10.0.0.128/25"] }, "--gateway and --ip-range"],
    [{ auxAddress: ["a=10.0.0.2"] }, "--aux-address needs a --subnet"],
  ])("refuses %j", (flags, message) => {
    expect(() => networkCreateRequest("n", network(flags))).toThrow(message);
  });
});

describe("nodeRunRequest", () => {
  it.each<[string, string | undefined, Partial<NodeRunFlags>, object]>([
    ["the name as an argument", "centos1", {}, { name: "centos1" }],
    ["--name", undefined, { name: "centos1" }, { name: "centos1" }],
    ["one --network is the network mode", "c", { network: ["my-net"] }, { name: "c", networkMode: "my-net" }],
    [
      "--network container:web",
      "c",
      { network: ["container:web"] },
      { name: "c", networkMode: "container:web" },
    ],
    [
      "--ip and --network-alias attach the first network",
      "c",
      { network: ["my-net"], ip: "172.18.0.10", networkAlias: ["db", "sql"] },
      { name: "c", networks: [{ network: "my-net", ipv4Address: "172.18.0.10", aliases: ["db", "sql"] }] },
    ],
    [
      "several networks in order",
      "c",
      { network: ["web", "app"] },
      { name: "c", networks: [{ network: "web" }, { network: "app" }] },
    ],
    [
      "-p, -P, --expose, --dns, --dns-search, --add-host, --hostname, --label, --host",
      "c",
      {
        publish: ["8080:80", "127.0.0.1::53/udp"],
        publishAll: true,
        expose: ["443"],
        dns: ["192.0.2.53"],
        dnsSearch: ["lab.example"],
        addHost: ["db:10.0.0.5"],
        hostname: "web1",
        label: ["student=alice"],
        host: "bdc01",
      },
      {
        name: "c",
        ports: ["8080:80", "127.0.0.1::53/udp"],
        publishAll: true,
        exposedPorts: ["443"],
        dns: { servers: ["192.0.2.53"], search: ["lab.example"] },
        extraHosts: ["db:10.0.0.5"],
        hostname: "web1",
        labels: { student: "alice" },
        host: "bdc01",
      },
    ],
  ])("%s", (_, name, flags, want) => {
    expect(nodeRunRequest(name, node(flags))).toEqual(want);
  });

  it.each<[string | undefined, Partial<NodeRunFlags>, string]>([
    [undefined, {}, "a node needs a name"],
    ["a", { name: "b" }, "the node is named twice (--name b and a)"],
    ["a", { ip: "10.0.0.2" }, "--ip and --network-alias need a --network"],
  ])("refuses %s %j", (name, flags, message) => {
    expect(() => nodeRunRequest(name, node(flags))).toThrow(message);
  });
});

describe("labCreateRequest", () => {
  it.each<[string | undefined, string, object]>([
    ["net101", "30", { name: "net101", template: "builtin:seed-001-ex2", count: 30 }],
    [
      "net101",
      "alice, bob",
      { name: "net101", template: "builtin:seed-001-ex2", students: ["alice", "bob"] },
    ],
    [undefined, "5", { name: "seed-001-ex2-k3x7", template: "builtin:seed-001-ex2", count: 5 }],
  ])("%s --students %s", (name, students, want) => {
    expect(
      labCreateRequest(name, { template: "builtin:seed-001-ex2", students, label: [] }, () => "k3x7"),
    ).toEqual(want);
  });

  it("refuses an empty student name", () => {
    expect(() => labCreateRequest("x", { template: "t", students: "a,,b", label: [] }, () => "0000")).toThrow(
      "give a number or names separated by commas",
    );
  });
});

describe("defaultLabName", () => {
  it.each([
    ["builtin:seed-000", "ab12", "seed-000-ab12"],
    ["my_template@3", "ab12", "my-template-ab12"],
    ["builtin:a-very-long-template-name-indeed", "ab12", "a-very-long-templat-ab12"],
    ["builtin:___", "ab12", "lab-ab12"],
  ])("%s → %s", (template, suffix, want) => {
    const name = defaultLabName(template, suffix);
    expect(name).toBe(want);
    expect(name.length).toBeLessThanOrEqual(24);
    expect(name).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
  });
});
