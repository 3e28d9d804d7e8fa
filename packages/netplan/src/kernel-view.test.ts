import { describe, expect, it } from "vitest";
import {
  buildKernelView,
  filterLabnetRules,
  type KernelBridge,
  type KernelFdbEntry,
  type KernelInterface,
  type KernelRoute,
  parseFdbEntries,
  parseIpForward,
  parseKernelBridges,
  parseKernelInterfaces,
  parseKernelNeighbours,
  parseKernelRoutes,
} from "./kernel-view";

// Captured from iproute2 6.1 and iptables 1.8.9 (nf_tables) in a test namespace holding a
// bridge with a veth port (its peer moved into a sandbox that pinged the gateway), an eth0 on
// a LAN with a macvlan and a vxlan over it (a port of the bridge, fdb entries to 10.0.0.12),
// Labnet chains next to another program's chain. Long fields trimmed, structure untouched.
const ADDR_JSON = `[${[
  '{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"operstate":"UNKNOWN","link_type":"loopback","address":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo"},{"family":"inet6","local":"::1","prefixlen":128,"scope":"host"}]}',
  '{"ifindex":2,"ifname":"lnbr-abcdefgh","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"operstate":"UP","link_type":"ether","address":"6e:01:38:21:f3:3d","linkinfo":{"info_kind":"bridge","info_data":{"stp_state":0,"vlan_filtering":0,"bridge_id":"8000.6e:1:38:21:f3:3d"}},"addr_info":[{"family":"inet","local":"172.18.0.1","prefixlen":16,"scope":"global","label":"lnbr-abcdefgh"},{"family":"inet6","local":"fe80::b893:7aff:fe63:eb9a","prefixlen":64,"scope":"link"}]}',
  '{"ifindex":4,"link_index":3,"link_netnsid":0,"ifname":"lnvabcdefghij","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"master":"lnbr-abcdefgh","operstate":"UP","link_type":"ether","address":"6e:01:38:21:f3:3d","linkinfo":{"info_kind":"veth","info_slave_kind":"bridge","info_slave_data":{"state":"forwarding","priority":32,"cost":2,"hairpin":false,"learning":true}},"addr_info":[{"family":"inet6","local":"fe80::6c01:38ff:fe21:f33d","prefixlen":64,"scope":"link","tentative":true}]}',
  '{"ifindex":5,"link":"eth0","ifname":"lan0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","link_type":"ether","address":"96:42:fd:8b:a2:55","linkinfo":{"info_kind":"veth"},"addr_info":[{"family":"inet6","local":"fe80::9442:fdff:fe8b:a255","prefixlen":64,"scope":"link"}]}',
  '{"ifindex":6,"link":"lan0","ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","link_type":"ether","address":"2E:CB:5E:D8:28:51","linkinfo":{"info_kind":"veth"},"addr_info":[{"family":"inet","local":"10.0.0.11","prefixlen":24,"scope":"global","label":"eth0"},{"family":"inet6","local":"fe80::2ccb:5eff:fed8:2851","prefixlen":64,"scope":"link"}]}',
  '{"ifindex":7,"ifname":"lnvx-257","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"master":"lnbr-abcdefgh","operstate":"UNKNOWN","link_type":"ether","address":"86:d4:44:e4:91:4e","linkinfo":{"info_kind":"vxlan","info_data":{"id":257,"port":4789,"link":"eth0","ttl":0,"learning":false},"info_slave_kind":"bridge","info_slave_data":{"state":"forwarding","priority":32,"cost":2,"hairpin":false,"learning":true}},"addr_info":[{"family":"inet6","local":"fe80::84d4:44ff:fee4:914e","prefixlen":64,"scope":"link"}]}',
  '{"ifindex":8,"link":"eth0","ifname":"mv0","flags":["BROADCAST","MULTICAST"],"mtu":1500,"operstate":"DOWN","link_type":"ether","address":"12:f4:a7:ac:7f:18","linkinfo":{"info_kind":"macvlan","info_data":{"mode":"bridge"}},"addr_info":[]}',
].join(",")}]\n`;

const ROUTE_JSON =
  '[{"dst":"default","gateway":"10.0.0.1","dev":"eth0","flags":[]},{"dst":"10.0.0.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"10.0.0.11","flags":[]},{"dst":"172.18.0.0/16","dev":"lnbr-abcdefgh","protocol":"kernel","scope":"link","prefsrc":"172.18.0.1","flags":[]},{"type":"blackhole","dst":"10.9.0.0/16","protocol":"static","metric":20,"flags":[]}]\n';

const BRIDGE_LINK_JSON =
  '[{"ifindex":4,"link":"if3","ifname":"lnvabcdefghij","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"master":"lnbr-abcdefgh","state":"forwarding","priority":32,"cost":2},{"ifindex":7,"ifname":"lnvx-257","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"master":"lnbr-abcdefgh","state":"forwarding","priority":32,"cost":2}]\n';

const FDB_JSON = `[${[
  '{"mac":"33:33:00:00:00:01","ifname":"lnbr-abcdefgh","flags":["self"],"state":"permanent"}',
  '{"mac":"6e:01:38:21:f3:3d","ifname":"lnvabcdefghij","flags":[],"master":"lnbr-abcdefgh","state":"permanent"}',
  '{"mac":"02:42:ac:12:00:09","ifname":"lnvabcdefghij","flags":[],"master":"lnbr-abcdefgh","state":"static"}',
  '{"mac":"A2:26:EC:B1:7E:55","ifname":"lnvabcdefghij","flags":[],"master":"lnbr-abcdefgh","state":""}',
  '{"mac":"33:33:00:00:00:01","ifname":"eth0","flags":["self"],"state":"permanent"}',
  '{"mac":"86:d4:44:e4:91:4e","ifname":"lnvx-257","flags":[],"master":"lnbr-abcdefgh","state":"permanent"}',
  '{"mac":"02:42:0a:00:00:03","ifname":"lnvx-257","dst":"10.0.0.12","flags":["self"],"state":"permanent"}',
  '{"mac":"00:00:00:00:00:00","ifname":"lnvx-257","dst":"10.0.0.12","flags":["self"],"state":"permanent"}',
].join(",")}]\n`;

const IPTABLES_SAVE = `# Generated by iptables-save v1.8.9 (nf_tables) on Wed Dec  2 00:24:01 2026
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:LABNET-RAW - [0:0]
-A PREROUTING -j LABNET-RAW
COMMIT
# Completed on Wed Dec  2 00:24:01 2026
# Generated by iptables-save v1.8.9 (nf_tables) on Wed Dec  2 00:24:01 2026
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
:LABNET-FORWARD - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j LABNET-FORWARD
-A FORWARD -s 1.2.3.4/32 -j ACCEPT
-A DOCKER-USER -j LABNET-FORWARD
-A LABNET-FORWARD -o lnbr-abcdefgh -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
# Completed on Wed Dec  2 00:24:01 2026
# Generated by iptables-save v1.8.9 (nf_tables) on Wed Dec  2 00:24:01 2026
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:LABNET-POSTROUTING - [0:0]
:OTHER - [0:0]
-A POSTROUTING -j LABNET-POSTROUTING
-A POSTROUTING -j OTHER
-A LABNET-POSTROUTING -s 172.18.0.0/16 ! -o lnbr-abcdefgh -j MASQUERADE
COMMIT
# Completed on Wed Dec  2 00:24:01 2026
`;

const NETCONF_JSON = (forwarding: boolean) =>
  `[{"family":"inet","interface":"lo","forwarding":${forwarding},"rp_filter":"off"},{"family":"inet","interface":"all","forwarding":${forwarding},"rp_filter":"off"},{"family":"inet","interface":"default","forwarding":false,"rp_filter":"off"}]\n`;

describe("parseKernelInterfaces", () => {
  const interfaces = parseKernelInterfaces(ADDR_JSON);
  const byName = (name: string) => interfaces.find((i) => i.name === name);

  it.each<[string, KernelInterface]>([
    [
      "lo",
      {
        name: "lo",
        index: 1,
        up: true,
        operState: "unknown",
        mtu: 65536,
        mac: "00:00:00:00:00:00",
        addresses: [
          { family: "inet", address: "127.0.0.1", prefixLength: 8, scope: "host" },
          { family: "inet6", address: "::1", prefixLength: 128, scope: "host" },
        ],
      },
    ],
    [
      "lnbr-abcdefgh",
      {
        name: "lnbr-abcdefgh",
        index: 2,
        kind: "bridge",
        up: true,
        operState: "up",
        mtu: 1450,
        mac: "6e:01:38:21:f3:3d",
        addresses: [
          { family: "inet", address: "172.18.0.1", prefixLength: 16, scope: "global" },
          { family: "inet6", address: "fe80::b893:7aff:fe63:eb9a", prefixLength: 64, scope: "link" },
        ],
      },
    ],
    [
      "lnvabcdefghij",
      {
        name: "lnvabcdefghij",
        index: 4,
        kind: "veth",
        up: true,
        operState: "up",
        mtu: 1500,
        mac: "6e:01:38:21:f3:3d",
        master: "lnbr-abcdefgh",
        addresses: [
          { family: "inet6", address: "fe80::6c01:38ff:fe21:f33d", prefixLength: 64, scope: "link" },
        ],
      },
    ],
    [
      "eth0",
      {
        name: "eth0",
        index: 6,
        kind: "veth",
        up: true,
        operState: "up",
        mtu: 1500,
        mac: "2e:cb:5e:d8:28:51",
        link: "lan0",
        addresses: [
          { family: "inet", address: "10.0.0.11", prefixLength: 24, scope: "global" },
          { family: "inet6", address: "fe80::2ccb:5eff:fed8:2851", prefixLength: 64, scope: "link" },
        ],
      },
    ],
    [
      "lnvx-257",
      {
        name: "lnvx-257",
        index: 7,
        kind: "vxlan",
        up: true,
        operState: "unknown",
        mtu: 1450,
        mac: "86:d4:44:e4:91:4e",
        master: "lnbr-abcdefgh",
        vxlan: { vni: 257, port: 4789, device: "eth0" },
        addresses: [
          { family: "inet6", address: "fe80::84d4:44ff:fee4:914e", prefixLength: 64, scope: "link" },
        ],
      },
    ],
    [
      "mv0",
      {
        name: "mv0",
        index: 8,
        kind: "macvlan",
        up: false,
        operState: "down",
        mtu: 1500,
        mac: "12:f4:a7:ac:7f:18",
        link: "eth0",
        addresses: [],
      },
    ],
  ])("%s", (name, want) => {
    expect(byName(name)).toEqual(want);
  });

  it("keeps the kernel's order", () => {
    expect(interfaces.map((i) => i.name)).toEqual([
      "lo",
      "lnbr-abcdefgh",
      "lnvabcdefghij",
      "lan0",
      "eth0",
      "lnvx-257",
      "mv0",
    ]);
  });

  it("throws on what ip does not print", () => {
    expect(() => parseKernelInterfaces('{"ifname":"lo"}')).toThrow();
    expect(() => parseKernelInterfaces("")).toThrow();
  });
});

describe("parseKernelRoutes", () => {
  it("gives destination, gateway, device, protocol, scope, source, metric and type", () => {
    expect(parseKernelRoutes(ROUTE_JSON)).toEqual<KernelRoute[]>([
      { dst: "default", gateway: "10.0.0.1", dev: "eth0" },
      { dst: "10.0.0.0/24", dev: "eth0", protocol: "kernel", scope: "link", prefsrc: "10.0.0.11" },
      {
        dst: "172.18.0.0/16",
        dev: "lnbr-abcdefgh",
        protocol: "kernel",
        scope: "link",
        prefsrc: "172.18.0.1",
      },
      { dst: "10.9.0.0/16", protocol: "static", metric: 20, type: "blackhole" },
    ]);
  });

  it("reads an empty table", () => {
    expect(parseKernelRoutes("[]\n")).toEqual([]);
  });
});

describe("parseKernelBridges", () => {
  it("lists each bridge with its ports, their STP state and hairpin (brctl show)", () => {
    expect(parseKernelBridges(ADDR_JSON, BRIDGE_LINK_JSON)).toEqual<KernelBridge[]>([
      {
        name: "lnbr-abcdefgh",
        id: "8000.6e:1:38:21:f3:3d",
        stp: false,
        ports: [
          { name: "lnvabcdefghij", state: "forwarding", hairpin: false },
          { name: "lnvx-257", state: "forwarding", hairpin: false },
        ],
      },
    ]);
  });

  it("shows a bridge without ports, and ports bridge link does not list without a state", () => {
    const addr =
      '[{"ifindex":2,"ifname":"lnbr-bbbbbbbb","flags":["BROADCAST"],"mtu":1500,"operstate":"DOWN","address":"aa:bb:cc:dd:ee:ff","linkinfo":{"info_kind":"bridge","info_data":{"stp_state":1}},"addr_info":[]},' +
      '{"ifindex":3,"ifname":"lnvbbbbbbbbbb","flags":[],"mtu":1500,"master":"lnbr-cccccccc","operstate":"DOWN","address":"aa:bb:cc:dd:ee:01"},' +
      '{"ifindex":4,"ifname":"lnbr-cccccccc","flags":[],"mtu":1500,"operstate":"DOWN","address":"aa:bb:cc:dd:ee:02","linkinfo":{"info_kind":"bridge"}}]';
    expect(parseKernelBridges(addr, "[]")).toEqual<KernelBridge[]>([
      { name: "lnbr-bbbbbbbb", stp: true, ports: [] },
      { name: "lnbr-cccccccc", stp: false, ports: [{ name: "lnvbbbbbbbbbb" }] },
    ]);
  });
});

describe("parseFdbEntries", () => {
  it("keeps learned, static and remote (vxlan dst) entries, not the kernel's permanent ones", () => {
    expect(parseFdbEntries(FDB_JSON)).toEqual<KernelFdbEntry[]>([
      {
        mac: "02:42:ac:12:00:09",
        device: "lnvabcdefghij",
        master: "lnbr-abcdefgh",
        state: "static",
        self: false,
      },
      {
        mac: "a2:26:ec:b1:7e:55",
        device: "lnvabcdefghij",
        master: "lnbr-abcdefgh",
        state: "dynamic",
        self: false,
      },
      { mac: "02:42:0a:00:00:03", device: "lnvx-257", dst: "10.0.0.12", state: "permanent", self: true },
      { mac: "00:00:00:00:00:00", device: "lnvx-257", dst: "10.0.0.12", state: "permanent", self: true },
    ]);
  });

  it("reads an empty table, and refuses an entry without mac", () => {
    expect(parseFdbEntries("[]\n")).toEqual([]);
    expect(() => parseFdbEntries('[{"ifname":"x"}]')).toThrow(/without mac/);
  });
});

describe("filterLabnetRules", () => {
  it("keeps Labnet's chains and the built-in chains' jumps into them, per table", () => {
    expect(filterLabnetRules(IPTABLES_SAVE)).toEqual({
      nat: [
        "*nat",
        ":LABNET-POSTROUTING - [0:0]",
        "-A POSTROUTING -j LABNET-POSTROUTING",
        "-A LABNET-POSTROUTING -s 172.18.0.0/16 ! -o lnbr-abcdefgh -j MASQUERADE",
        "COMMIT",
        "",
      ].join("\n"),
      filter: [
        "*filter",
        ":LABNET-FORWARD - [0:0]",
        "-A FORWARD -j LABNET-FORWARD",
        "-A LABNET-FORWARD -o lnbr-abcdefgh -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        "COMMIT",
        "",
      ].join("\n"),
      raw: ["*raw", ":LABNET-RAW - [0:0]", "-A PREROUTING -j LABNET-RAW", "COMMIT", ""].join("\n"),
    });
  });

  it.each([
    ["an empty ruleset", ""],
    [
      "tables without Labnet chains",
      "*nat\n:POSTROUTING ACCEPT [0:0]\n:OTHER - [0:0]\n-A POSTROUTING -j OTHER\nCOMMIT\n",
    ],
  ])("gives empty text for %s", (_, save) => {
    expect(filterLabnetRules(save)).toEqual({ nat: "", filter: "", raw: "" });
  });

  it("leaves out tables other than nat, filter and raw", () => {
    const save = "*mangle\n:PREROUTING ACCEPT [0:0]\n:LABNET-X - [0:0]\n-A PREROUTING -j LABNET-X\nCOMMIT\n";
    expect(filterLabnetRules(save)).toEqual({ nat: "", filter: "", raw: "" });
  });
});

describe("parseIpForward", () => {
  it.each([true, false])("reads forwarding %s from the all entry", (forwarding) => {
    expect(parseIpForward(NETCONF_JSON(forwarding))).toBe(forwarding);
  });

  it("throws without an all entry", () => {
    expect(() => parseIpForward('[{"family":"inet","interface":"lo","forwarding":true}]')).toThrow(/all/);
  });
});

describe("buildKernelView", () => {
  it("puts the parts together", () => {
    const view = buildKernelView({
      addr: ADDR_JSON,
      route: ROUTE_JSON,
      bridgeLink: BRIDGE_LINK_JSON,
      fdb: FDB_JSON,
      iptablesSave: IPTABLES_SAVE,
      netconf: NETCONF_JSON(true),
    });
    expect(view.interfaces).toHaveLength(7);
    expect(view.routes).toHaveLength(4);
    expect(view.bridges.map((b) => b.ports.map((p) => p.name))).toEqual([["lnvabcdefghij", "lnvx-257"]]);
    expect(view.fdb).toHaveLength(4);
    expect(view.iptables.nat).toContain("MASQUERADE");
    expect(view.sysctls).toEqual({ ipForward: true });
  });
});

describe("parseKernelNeighbours", () => {
  it("reads ip -j neigh show: address, device, MAC and states", () => {
    const text = JSON.stringify([
      { dst: "172.18.0.1", dev: "eth0", lladdr: "02:42:AC:12:00:01", state: ["REACHABLE"] },
      { dst: "172.18.0.9", dev: "eth0", state: ["FAILED"] },
    ]);
    expect(parseKernelNeighbours(text)).toEqual([
      { address: "172.18.0.1", dev: "eth0", mac: "02:42:ac:12:00:01", state: ["reachable"] },
      { address: "172.18.0.9", dev: "eth0", state: ["failed"] },
    ]);
    expect(parseKernelNeighbours("")).toEqual([]);
  });
});
