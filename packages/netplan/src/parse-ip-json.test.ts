import { describe, expect, it } from "vitest";
import type { ObservedLink, ObservedSandbox } from "./observed";
import {
  parseIpAddrBatchJson,
  parseIpAddrJson,
  parseIpLinkJson,
  parseIpRouteJson,
  parseJsonDocuments,
  parseSandboxBatchJson,
} from "./parse-ip-json";

// Captured from iproute2 6.1 (`ip -j -d addr show`) in a test namespace after building a
// bridge with one veth; long fields trimmed, structure untouched.
const HOST_LINK_JSON = [
  '{"ifindex":1,"ifname":"lo","flags":["LOOPBACK"],"mtu":65536,"operstate":"DOWN","link_type":"loopback","address":"00:00:00:00:00:00","addr_info":[]}',
  '{"ifindex":2,"ifname":"lnbr-abcdefgh","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","link_type":"ether","address":"b2:01:cb:88:9e:3a","linkinfo":{"info_kind":"bridge","info_data":{"stp_state":0,"vlan_filtering":0,"bridge_id":"8000.b2:1:cb:88:9e:3a"}},"addr_info":[{"family":"inet","local":"172.30.0.1","prefixlen":24,"scope":"global","label":"lnbr-abcdefgh"}]}',
  '{"ifindex":3,"link_index":2,"ifname":"lnvabcdefghij","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"master":"lnbr-abcdefgh","operstate":"UP","link_type":"ether","address":"B2:01:CB:88:9E:3A","link_netnsid":0,"linkinfo":{"info_kind":"veth","info_slave_kind":"bridge","info_slave_data":{"state":"forwarding","priority":32,"cost":2,"hairpin":false}},"addr_info":[{"family":"inet6","local":"fe80::b001:cbff:fe88:9e3a","prefixlen":64,"scope":"link","tentative":true}]}',
];
const HOST_ADDR_JSON = `[${HOST_LINK_JSON.join(",")}]\n`;

const SANDBOX_ADDR_JSON =
  '[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"operstate":"UNKNOWN","address":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo"},{"family":"inet6","local":"::1","prefixlen":128,"scope":"host"}]},' +
  '{"ifindex":2,"link_index":3,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","address":"02:42:ac:1e:00:02","link_netnsid":0,"linkinfo":{"info_kind":"veth"},"addr_info":[{"family":"inet","local":"172.30.0.2","prefixlen":24,"scope":"global","label":"eth0"},{"family":"inet6","local":"fe80::42:acff:fe1e:2","prefixlen":64,"scope":"link","tentative":true}]}]';

const SANDBOX_ROUTE_JSON =
  '[{"dst":"default","gateway":"172.30.0.1","dev":"eth0","flags":[]},{"dst":"172.30.0.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"172.30.0.2","flags":[]}]\n';

const HOST_LINKS: ObservedLink[] = [
  { name: "lo", up: false, mtu: 65536, mac: "00:00:00:00:00:00", addresses: [], index: 1 },
  {
    name: "lnbr-abcdefgh",
    kind: "bridge",
    up: true,
    mtu: 1500,
    mac: "b2:01:cb:88:9e:3a",
    addresses: ["172.30.0.1/24"],
    index: 2,
  },
  {
    name: "lnvabcdefghij",
    kind: "veth",
    master: "lnbr-abcdefgh",
    hairpin: false,
    up: true,
    mtu: 1500,
    mac: "b2:01:cb:88:9e:3a",
    addresses: [],
    index: 3,
    peerIndex: 2,
  },
];

const SANDBOX_LINKS: ObservedLink[] = [
  { name: "lo", up: true, mtu: 65536, mac: "00:00:00:00:00:00", addresses: ["127.0.0.1/8"], index: 1 },
  {
    name: "eth0",
    kind: "veth",
    up: true,
    mtu: 1500,
    mac: "02:42:ac:1e:00:02",
    addresses: ["172.30.0.2/24"],
    index: 2,
    peerIndex: 3,
  },
];

describe("parseIpAddrJson", () => {
  const cases: { name: string; given: string; want: ObservedLink[] }[] = [
    { name: "host with bridge and veth", given: HOST_ADDR_JSON, want: HOST_LINKS },
    { name: "sandbox keeps only IPv4", given: SANDBOX_ADDR_JSON, want: SANDBOX_LINKS },
    { name: "empty namespace list", given: "[]", want: [] },
  ];
  it.each(cases)("$name", ({ given, want }) => {
    expect(parseIpAddrJson(given)).toEqual(want);
  });

  it.each([
    { name: "not JSON", given: "Cannot find device" },
    { name: "object instead of array", given: '{"ifname":"lo"}' },
    { name: "link without ifname", given: '[{"ifindex":1,"mtu":1500}]' },
    { name: "two documents", given: "[][]" },
  ])("rejects $name", ({ given }) => {
    expect(() => parseIpAddrJson(given)).toThrow();
  });
});

describe("parseIpAddrBatchJson", () => {
  it("reads one document per link shown, in order (a missing one prints nothing)", () => {
    const [, bridge, veth] = HOST_LINK_JSON;
    expect(parseIpAddrBatchJson(`[${veth}]\n[${bridge}]\n`)).toEqual([HOST_LINKS[2], HOST_LINKS[1]]);
    expect(parseIpAddrBatchJson("")).toEqual([]);
  });
});

describe("parseIpLinkJson", () => {
  it("parses link output without addresses", () => {
    const given =
      '[{"ifindex":7,"ifname":"lnbr-mtutest1","flags":["BROADCAST","MULTICAST"],"mtu":1400,"qdisc":"noop","operstate":"DOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"82:94:0a:50:77:c7","broadcast":"ff:ff:ff:ff:ff:ff","linkinfo":{"info_kind":"bridge"}}]';
    expect(parseIpLinkJson(given)).toEqual([
      {
        name: "lnbr-mtutest1",
        kind: "bridge",
        up: false,
        mtu: 1400,
        mac: "82:94:0a:50:77:c7",
        addresses: [],
        index: 7,
      },
    ]);
  });
});

describe("parseIpRouteJson", () => {
  it("parses routes", () => {
    expect(parseIpRouteJson(SANDBOX_ROUTE_JSON)).toEqual([
      { dst: "default", gateway: "172.30.0.1", dev: "eth0" },
      { dst: "172.30.0.0/24", dev: "eth0" },
    ]);
  });
});

describe("parseSandboxBatchJson", () => {
  const cases: { name: string; given: string; want: ObservedSandbox }[] = [
    {
      name: "addr + default route, one document per line",
      given: `${SANDBOX_ADDR_JSON}\n[{"dst":"default","gateway":"172.30.0.1","dev":"eth0","flags":[]}]\n`,
      want: { links: SANDBOX_LINKS, defaultGateway: "172.30.0.1" },
    },
    {
      name: "no default route",
      given: `${SANDBOX_ADDR_JSON}\n[]\n`,
      want: { links: SANDBOX_LINKS },
    },
  ];
  it.each(cases)("$name", ({ given, want }) => {
    expect(parseSandboxBatchJson(given)).toEqual(want);
  });

  it("rejects a batch that stopped after the first command", () => {
    expect(() => parseSandboxBatchJson(SANDBOX_ADDR_JSON)).toThrow(/want 2/);
  });
});

describe("parseJsonDocuments", () => {
  const cases: { name: string; given: string; want: unknown[] }[] = [
    { name: "empty", given: "", want: [] },
    { name: "adjacent", given: "[1][2]", want: [[1], [2]] },
    {
      name: "brackets inside strings",
      given: '[{"a":"]["}]\n[{"b":"\\"]"}]',
      want: [[{ a: "][" }], [{ b: '"]' }]],
    },
  ];
  it.each(cases)("$name", ({ given, want }) => {
    expect(parseJsonDocuments(given)).toEqual(want);
  });

  it.each(["[1", "]", "[1] x"])("rejects %j", (given) => {
    expect(() => parseJsonDocuments(given)).toThrow();
  });
});
