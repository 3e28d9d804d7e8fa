import { describe, expect, it } from "vitest";
import type { DesiredHost, DesiredOverlay } from "./desired";
import { isLabnetVxlan, vxlanName } from "./names";
import type { ObservedHost, ObservedLink } from "./observed";
import {
  parseVxlanFdbJson,
  parseVxlanNeighJson,
  planOverlayFdb,
  planOverlayLink,
  planOverlayNeighbours,
} from "./overlay";
import { parseIpAddrJson } from "./parse-ip-json";
import { planHost } from "./plan";
import { makeBridge } from "./test-fixtures";
import { assertValidDesiredHost } from "./validate";

const PREFIX = "lt4f2ah1-";
const OPTIONS = { netnsPrefix: PREFIX, prune: true };
const NS = `${PREFIX}sandboxoneaaaaa`;

/** Seed 002's overlay on bdc01 (10.1.0.11): bdc02 at 10.1.0.12 has 172.16.0.2. */
function makeOverlay(overrides: Partial<DesiredOverlay> = {}): DesiredOverlay {
  return {
    networkId: "net_abcdefgh23456777",
    bridge: "lnbr-abcdefgh",
    vxlan: "lnvx-257",
    vni: 257,
    underlay: "eth0",
    mtu: 1450,
    vteps: ["10.1.0.12"],
    remotes: [{ mac: "02:42:ac:10:00:02", vtep: "10.1.0.12", address: "172.16.0.2" }],
    ...overrides,
  };
}

const OVERLAY_BRIDGE = makeBridge({ gateways: [], subnets: ["172.16.0.0/24"], internal: true, mtu: 1450 });

function makeDesired(overlay: DesiredOverlay = makeOverlay()): DesiredHost {
  return {
    bridges: [OVERLAY_BRIDGE],
    sandboxes: [
      {
        nodeId: "nod_sandboxoneaaaaa",
        netns: NS,
        endpoints: [
          {
            endpointId: "ep_abcdefghij234567",
            ifName: "eth0",
            hostVeth: "lnvabcdefghij",
            bridge: "lnbr-abcdefgh",
            address: "172.16.0.1/24",
            mac: "02:42:ac:10:00:01",
            mtu: 1450,
          },
        ],
      },
    ],
    portMappings: [],
    overlays: [overlay],
  };
}

function link(name: string, overrides: Partial<ObservedLink> = {}): ObservedLink {
  return { name, up: true, mtu: 1450, mac: "aa:bb:cc:00:00:01", addresses: [], index: 1, ...overrides };
}

describe("names", () => {
  it("builds lnvx-<vni> and recognises only those", () => {
    expect(vxlanName(257)).toBe("lnvx-257");
    expect(vxlanName(16_777_215)).toBe("lnvx-16777215");
    expect(() => vxlanName(0)).toThrow();
    expect(() => vxlanName(16_777_216)).toThrow();
    expect(isLabnetVxlan("lnvx-257")).toBe(true);
    expect(isLabnetVxlan("lnvx-0257")).toBe(false);
    expect(isLabnetVxlan("lnvx-99999999")).toBe(false);
    expect(isLabnetVxlan("vxlan0")).toBe(false);
  });
});

describe("planOverlayLink", () => {
  const created = [
    "link add lnvx-257 mtu 1450 type vxlan id 257 dev eth0 dstport 4789 nolearning proxy",
    "link set lnvx-257 addrgenmode none",
    "link set lnvx-257 master lnbr-abcdefgh up",
  ];
  const cases: { name: string; given: ObservedLink | undefined; want: ReturnType<typeof planOverlayLink> }[] =
    [
      {
        name: "missing: created on the bridge",
        given: undefined,
        want: { deletes: [], lines: created, created: true },
      },
      {
        name: "converged: nothing",
        given: link("lnvx-257", { kind: "vxlan", vxlanId: 257, master: "lnbr-abcdefgh" }),
        want: { deletes: [], lines: [], created: false },
      },
      {
        name: "another VNI under the name: replaced",
        given: link("lnvx-257", { kind: "vxlan", vxlanId: 42, master: "lnbr-abcdefgh" }),
        want: { deletes: ["link del lnvx-257"], lines: created, created: true },
      },
      {
        name: "not a vxlan: replaced",
        given: link("lnvx-257", { kind: "bridge" }),
        want: { deletes: ["link del lnvx-257"], lines: created, created: true },
      },
      {
        name: "drifted: MTU, master and state repaired",
        given: link("lnvx-257", { kind: "vxlan", vxlanId: 257, mtu: 1500, up: false }),
        want: {
          deletes: [],
          lines: [
            "link set lnvx-257 mtu 1450",
            "link set lnvx-257 master lnbr-abcdefgh",
            "link set lnvx-257 up",
          ],
          created: false,
        },
      },
    ];
  it.each(cases)("$name", ({ given, want }) => {
    expect(planOverlayLink(makeOverlay(), given)).toEqual(want);
  });
});

describe("planOverlayFdb", () => {
  const cases: {
    name: string;
    overlay: Partial<DesiredOverlay>;
    observed: { mac: string; dst: string }[];
    want: string[];
  }[] = [
    {
      name: "empty table: a flood entry per VTEP and an entry per remote endpoint",
      overlay: {
        vteps: ["10.1.0.13", "10.1.0.12"],
        remotes: [
          { mac: "02:42:ac:10:00:02", vtep: "10.1.0.12", address: "172.16.0.2" },
          { mac: "02:42:ac:10:00:03", vtep: "10.1.0.13", address: "172.16.0.3" },
        ],
      },
      observed: [],
      want: [
        "fdb append 00:00:00:00:00:00 dev lnvx-257 dst 10.1.0.12",
        "fdb append 00:00:00:00:00:00 dev lnvx-257 dst 10.1.0.13",
        "fdb replace 02:42:ac:10:00:02 dev lnvx-257 dst 10.1.0.12",
        "fdb replace 02:42:ac:10:00:03 dev lnvx-257 dst 10.1.0.13",
      ],
    },
    {
      name: "converged: nothing",
      overlay: {},
      observed: [
        { mac: "02:42:ac:10:00:02", dst: "10.1.0.12" },
        { mac: "00:00:00:00:00:00", dst: "10.1.0.12" },
      ],
      want: [],
    },
    {
      name: "an endpoint left: only its entry goes",
      overlay: {},
      observed: [
        { mac: "00:00:00:00:00:00", dst: "10.1.0.12" },
        { mac: "02:42:ac:10:00:02", dst: "10.1.0.12" },
        { mac: "02:42:ac:10:00:03", dst: "10.1.0.12" },
      ],
      want: ["fdb del 02:42:ac:10:00:03 dev lnvx-257 dst 10.1.0.12"],
    },
    {
      name: "a machine left: its flood entry and endpoints go",
      overlay: { vteps: [], remotes: [] },
      observed: [
        { mac: "00:00:00:00:00:00", dst: "10.1.0.12" },
        { mac: "02:42:ac:10:00:02", dst: "10.1.0.12" },
      ],
      want: [
        "fdb del 00:00:00:00:00:00 dev lnvx-257 dst 10.1.0.12",
        "fdb del 02:42:ac:10:00:02 dev lnvx-257 dst 10.1.0.12",
      ],
    },
    {
      name: "an endpoint moved to another machine: its entry moves",
      overlay: {
        vteps: ["10.1.0.13"],
        remotes: [{ mac: "02:42:ac:10:00:02", vtep: "10.1.0.13", address: "172.16.0.2" }],
      },
      observed: [
        { mac: "00:00:00:00:00:00", dst: "10.1.0.13" },
        { mac: "02:42:ac:10:00:02", dst: "10.1.0.12" },
      ],
      want: [
        "fdb del 02:42:ac:10:00:02 dev lnvx-257 dst 10.1.0.12",
        "fdb replace 02:42:ac:10:00:02 dev lnvx-257 dst 10.1.0.13",
      ],
    },
  ];
  it.each(cases)("$name", ({ overlay, observed, want }) => {
    expect(planOverlayFdb(makeOverlay(overlay), observed)).toEqual(want);
  });
});

describe("planOverlayNeighbours", () => {
  it("adds a permanent entry per remote endpoint and removes the ones that left or moved", () => {
    const overlay = makeOverlay({
      remotes: [
        { mac: "02:42:ac:10:00:02", vtep: "10.1.0.12", address: "172.16.0.2" },
        { mac: "02:42:ac:10:00:05", vtep: "10.1.0.12", address: "172.16.0.5" },
      ],
    });
    expect(
      planOverlayNeighbours(overlay, [
        { address: "172.16.0.2", mac: "02:42:ac:10:00:02" },
        { address: "172.16.0.5", mac: "02:42:ac:10:00:09" },
        { address: "172.16.0.33", mac: "02:42:ac:10:00:21" },
      ]),
    ).toEqual([
      "neigh del 172.16.0.33 dev lnvx-257",
      "neigh replace 172.16.0.5 lladdr 02:42:ac:10:00:05 dev lnvx-257 nud permanent",
    ]);
    expect(
      planOverlayNeighbours(makeOverlay(), [{ address: "172.16.0.2", mac: "02:42:ac:10:00:02" }]),
    ).toEqual([]);
  });

  it("reads only permanent IPv4 entries", () => {
    const text =
      '[{"dst":"172.16.0.2","lladdr":"02:42:AC:10:00:02","state":["PERMANENT"]},' +
      '{"dst":"172.16.0.9","lladdr":"02:42:ac:10:00:09","state":["STALE"]},{"dst":"172.16.0.7","state":["FAILED"]}]';
    expect(parseVxlanNeighJson(text)).toEqual([{ address: "172.16.0.2", mac: "02:42:ac:10:00:02" }]);
  });
});

describe("parseVxlanFdbJson", () => {
  it("keeps the device's own entries with a VTEP, not the bridge's", () => {
    const text =
      '[{"mac":"22:4f:84:02:75:3d","flags":[],"master":"lnbr-abcdefgh","state":"permanent"},' +
      '{"mac":"02:42:AC:10:00:03","dst":"10.9.0.3","flags":["self"],"state":"permanent"},' +
      '{"mac":"00:00:00:00:00:00","dst":"10.9.0.2","flags":["self"],"state":"permanent"},' +
      '{"mac":"00:00:00:00:00:00","dst":"fe80::1","flags":["self"],"state":"permanent"}]';
    expect(parseVxlanFdbJson(text)).toEqual([
      { mac: "02:42:ac:10:00:03", dst: "10.9.0.3" },
      { mac: "00:00:00:00:00:00", dst: "10.9.0.2" },
    ]);
    expect(parseVxlanFdbJson("[]")).toEqual([]);
  });
});

describe("planHost with an overlay", () => {
  const empty: ObservedHost = { netns: [], links: [], iptablesSave: "", sandboxes: {} };

  it("builds the bridge without an address, the vxlan on it before the veths, and the entries", () => {
    const plan = planHost(makeDesired(), empty, OPTIONS);
    expect(plan.hostBatch.slice(0, 6)).toEqual([
      "link add lnbr-abcdefgh mtu 1450 type bridge",
      "link set lnbr-abcdefgh addrgenmode none",
      "link set lnbr-abcdefgh up",
      "link add lnvx-257 mtu 1450 type vxlan id 257 dev eth0 dstport 4789 nolearning proxy",
      "link set lnvx-257 addrgenmode none",
      "link set lnvx-257 master lnbr-abcdefgh up",
    ]);
    expect(plan.hostBatch[6]).toBe(
      "neigh replace 172.16.0.2 lladdr 02:42:ac:10:00:02 dev lnvx-257 nud permanent",
    );
    expect(plan.hostBatch[7]).toMatch(/^link add lnvabcdefghij mtu 1450 master lnbr-abcdefgh up type veth/);
    expect(plan.fdbBatch).toEqual([
      "fdb append 00:00:00:00:00:00 dev lnvx-257 dst 10.1.0.12",
      "fdb replace 02:42:ac:10:00:02 dev lnvx-257 dst 10.1.0.12",
    ]);
    // No gateway: the overlay is confined to its bridge, and nothing is masqueraded.
    expect(plan.iptablesRestore).not.toContain("MASQUERADE");
    expect(plan.iptablesRestore).toContain("-A LABNET-FORWARD -i lnbr-abcdefgh -o lnbr-abcdefgh -j ACCEPT");
  });

  it("on a converged machine adds only the entry of an endpoint that joined elsewhere", () => {
    const links = parseIpAddrJson(
      JSON.stringify([
        {
          ifindex: 5,
          ifname: "lnvx-257",
          flags: ["UP"],
          mtu: 1450,
          master: "lnbr-abcdefgh",
          address: "22:4f:84:02:75:3d",
          linkinfo: { info_kind: "vxlan", info_data: { id: 257 } },
        },
      ]),
    );
    expect(links[0]?.vxlanId).toBe(257);
    const overlay = makeOverlay({
      remotes: [
        { mac: "02:42:ac:10:00:02", vtep: "10.1.0.12", address: "172.16.0.2" },
        { mac: "02:42:ac:10:00:03", vtep: "10.1.0.12", address: "172.16.0.3" },
      ],
    });
    const observed: ObservedHost = {
      ...empty,
      links,
      fdb: {
        "lnvx-257": [
          { mac: "00:00:00:00:00:00", dst: "10.1.0.12" },
          { mac: "02:42:ac:10:00:02", dst: "10.1.0.12" },
        ],
      },
      neigh: { "lnvx-257": [{ address: "172.16.0.2", mac: "02:42:ac:10:00:02" }] },
    };
    const plan = planHost({ ...makeDesired(overlay), sandboxes: [] }, observed, OPTIONS);
    expect(plan.hostBatch.filter((line) => line.includes("lnvx"))).toEqual([
      "neigh replace 172.16.0.3 lladdr 02:42:ac:10:00:03 dev lnvx-257 nud permanent",
    ]);
    expect(plan.fdbBatch).toEqual(["fdb replace 02:42:ac:10:00:03 dev lnvx-257 dst 10.1.0.12"]);
  });

  it("prunes a vxlan device whose overlay has no endpoint here any more", () => {
    const observed: ObservedHost = {
      ...empty,
      links: [
        link("lnbr-abcdefgh", { kind: "bridge" }),
        link("lnvx-257", { kind: "vxlan", vxlanId: 257, master: "lnbr-abcdefgh" }),
        link("vxlan0", { kind: "vxlan" }),
      ],
    };
    const plan = planHost({ bridges: [], sandboxes: [], portMappings: [] }, observed, OPTIONS);
    expect(plan.hostBatch).toEqual(["link del lnbr-abcdefgh", "link del lnvx-257"]);
    expect(plan.fdbBatch).toBeUndefined();
  });

  it("refuses an overlay whose names or addresses could become a second command", () => {
    const bad: Partial<DesiredOverlay>[] = [
      { vxlan: "lnvx-258" },
      { vni: 0, vxlan: "lnvx-0" },
      { bridge: "lnbr-zzzzzzzz" },
      { underlay: "eth0 dst 1.1.1.1" },
      { vteps: ["10.1.0.12\nfdb flush"] },
      { remotes: [{ mac: "ff:ff:ff:ff:ff:ff", vtep: "10.1.0.12", address: "172.16.0.2" }] },
      { remotes: [{ mac: "02:42:ac:10:00:02", vtep: "10.1.0.12", address: "172.16.0.2 dev eth0" }] },
    ];
    for (const overrides of bad) {
      expect(() => assertValidDesiredHost(makeDesired(makeOverlay(overrides)), PREFIX)).toThrow(
        /invalid desired state/,
      );
    }
  });
});
