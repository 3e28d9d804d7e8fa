import { describe, expect, it } from "vitest";
import type { DesiredHost, DesiredMacvlanEndpoint, DesiredSandbox } from "./desired";
import { isMacvlanEndpointLink, renderMacvlanCreate } from "./macvlan";
import type { ObservedHost, ObservedLink } from "./observed";
import { parseIpAddrJson } from "./parse-ip-json";
import { type HostPlan, planHost } from "./plan";
import { assertValidDesiredHost } from "./validate";

const PREFIX = "lt4f2ah1-";
const NS = `${PREFIX}sandboxoneaaaaa`;
const EP = "ep_macvlanoneaaaaaa";
/** `lns` + the first 10 chars of EP's random part. */
const TEMP = "lnsmacvlanone";
const OPTIONS = { netnsPrefix: PREFIX, prune: true };
const EMPTY = { netnsAdd: [], hostBatch: [], sandboxBatches: [], netnsDelete: [] };

/** Seed 002's node on bdc01: macvlan_1 100.0.0.0/24, gateway 100.0.0.254 (on no host interface). */
function makeMacvlan(overrides: Partial<DesiredMacvlanEndpoint> = {}): DesiredMacvlanEndpoint {
  return {
    endpointId: EP,
    ifName: "eth0",
    parent: "eth0",
    mode: "bridge",
    address: "100.0.0.1/24",
    mac: "02:42:64:00:00:01",
    mtu: 1500,
    ...overrides,
  };
}

function makeDesired(sandbox: Partial<DesiredSandbox> = {}): DesiredHost {
  return {
    bridges: [],
    sandboxes: [
      {
        nodeId: "nod_sandboxoneaaaaa",
        netns: NS,
        endpoints: [],
        macvlanEndpoints: [makeMacvlan()],
        defaultGateway: "100.0.0.254",
        ...sandbox,
      },
    ],
    portMappings: [],
  };
}

function link(name: string, overrides: Partial<ObservedLink> = {}): ObservedLink {
  return { name, up: true, mtu: 1500, mac: "aa:bb:cc:00:00:01", addresses: [], index: 1, ...overrides };
}

const PARENT = link("eth0", { kind: "veth", index: 7, peerIndex: 2, mac: "aa:bb:cc:00:00:07" });

/** The sandbox after the plan ran: the macvlan renamed eth0, on the parent (ifindex 7). */
function observeConverged(): ObservedHost {
  return {
    netns: [NS],
    links: [link("lo", { index: 1 }), PARENT],
    iptablesSave: "",
    sandboxes: {
      [NS]: {
        links: [
          link("lo", { mtu: 65536, addresses: ["127.0.0.1/8"] }),
          link("eth0", {
            kind: "macvlan",
            macvlanMode: "bridge",
            mac: "02:42:64:00:00:01",
            addresses: ["100.0.0.1/24"],
            index: 2,
            peerIndex: 7,
          }),
        ],
        defaultGateway: "100.0.0.254",
      },
    },
  };
}

function ipWork(plan: HostPlan): Omit<HostPlan, "iptablesRestore"> {
  const { iptablesRestore: _payload, ...rest } = plan;
  return rest;
}

function edit(observed: ObservedHost, change: (links: ObservedLink[]) => void): ObservedHost {
  const copy = structuredClone(observed);
  change(copy.sandboxes[NS]?.links ?? []);
  return copy;
}

function eth0Of(links: ObservedLink[]): ObservedLink {
  const eth0 = links.find((l) => l.name === "eth0");
  if (eth0 === undefined) {
    throw new Error("fixture has no eth0");
  }
  return eth0;
}

const CREATE = `link add ${TEMP} link eth0 address 02:42:64:00:00:01 mtu 1500 netns ${NS} type macvlan mode bridge`;
const SETUP = ["link set eth0 addrgenmode none", "addr replace 100.0.0.1/24 dev eth0", "link set eth0 up"];
const ROUTE = "route replace default via 100.0.0.254";

describe("renderMacvlanCreate", () => {
  it.each([
    { mode: "bridge" as const, want: CREATE },
    {
      mode: "vepa" as const,
      want: `link add ${TEMP} link eth0 address 02:42:64:00:00:01 mtu 1500 netns ${NS} type macvlan mode vepa`,
    },
    // The kernel gives a passthru macvlan the parent's MAC whatever is asked.
    {
      mode: "passthru" as const,
      want: `link add ${TEMP} link eth0 mtu 1500 netns ${NS} type macvlan mode passthru`,
    },
  ])("mode $mode", ({ mode, want }) => {
    expect(renderMacvlanCreate(makeMacvlan({ mode }), NS)).toBe(want);
  });
});

describe("planHost with a macvlan endpoint", () => {
  it("creates it in the sandbox from the host batch, renames it eth0 there, no bridge, no rules", () => {
    const observed: ObservedHost = {
      netns: [],
      links: [link("lo"), PARENT],
      iptablesSave: "",
      sandboxes: {},
    };
    const plan = planHost(makeDesired(), observed, OPTIONS);
    expect(ipWork(plan)).toEqual({
      netnsAdd: [NS],
      hostBatch: [CREATE],
      sandboxBatches: [
        { netns: NS, lines: ["link set lo up", `link set ${TEMP} name eth0`, ...SETUP, ROUTE] },
      ],
      netnsDelete: [],
    });
    // Nothing of a macvlan network is in iptables: no MASQUERADE, no forward accepts.
    expect(plan.iptablesRestore).not.toMatch(/100\.0\.0\./);
  });

  it("renders nothing once converged, whether the parent was observed or not", () => {
    const converged = observeConverged();
    expect(ipWork(planHost(makeDesired(), converged, OPTIONS))).toEqual(EMPTY);
    const withoutParent = { ...converged, links: [] };
    expect(ipWork(planHost(makeDesired(), withoutParent, OPTIONS))).toEqual(EMPTY);
  });

  const replace = {
    ...EMPTY,
    hostBatch: [CREATE],
    sandboxBatches: [{ netns: NS, lines: ["link del eth0", `link set ${TEMP} name eth0`, ...SETUP, ROUTE] }],
  };
  const cases: { name: string; given: ObservedHost; want: Omit<HostPlan, "iptablesRestore"> }[] = [
    {
      name: "address gone and down",
      given: edit(observeConverged(), (links) => {
        eth0Of(links).addresses = ["100.0.0.9/24"];
        eth0Of(links).up = false;
      }),
      want: {
        ...EMPTY,
        sandboxBatches: [
          {
            netns: NS,
            lines: [
              "addr del 100.0.0.9/24 dev eth0",
              "addr replace 100.0.0.1/24 dev eth0",
              "link set eth0 up",
            ],
          },
        ],
      },
    },
    {
      name: "eth0 deleted by hand",
      given: edit(observeConverged(), (links) => {
        links.splice(links.indexOf(eth0Of(links)), 1);
      }),
      want: {
        ...EMPTY,
        hostBatch: [CREATE],
        sandboxBatches: [{ netns: NS, lines: [`link set ${TEMP} name eth0`, ...SETUP, ROUTE] }],
      },
    },
    {
      name: "another MAC",
      given: edit(observeConverged(), (l) => {
        eth0Of(l).mac = "02:42:64:00:00:09";
      }),
      want: replace,
    },
    {
      name: "another mode",
      given: edit(observeConverged(), (l) => {
        eth0Of(l).macvlanMode = "vepa";
      }),
      want: replace,
    },
    {
      name: "another parent",
      given: edit(observeConverged(), (l) => {
        eth0Of(l).peerIndex = 3;
      }),
      want: replace,
    },
    {
      name: "eth0 is a veth (no Labnet host peer)",
      given: edit(observeConverged(), (links) => {
        const eth0 = eth0Of(links);
        eth0.kind = "veth";
        delete eth0.macvlanMode;
      }),
      want: replace,
    },
    {
      name: "left under its temporary name by an interrupted converge",
      given: edit(observeConverged(), (links) => {
        const eth0 = eth0Of(links);
        eth0.name = TEMP;
        eth0.up = false;
        eth0.addresses = [];
      }),
      want: {
        ...EMPTY,
        sandboxBatches: [{ netns: NS, lines: [`link set ${TEMP} name eth0`, ...SETUP, ROUTE] }],
      },
    },
    {
      name: "something else holds its temporary name",
      given: edit(observeConverged(), (links) => {
        const eth0 = eth0Of(links);
        eth0.name = TEMP;
        eth0.kind = "dummy";
      }),
      want: { ...EMPTY, sandboxBatches: [{ netns: NS, lines: [`link del ${TEMP}`, ROUTE] }] },
    },
  ];
  it.each(cases)("repairs drift: $name", ({ given, want }) => {
    expect(ipWork(planHost(makeDesired(), given, OPTIONS))).toEqual(want);
  });

  it("does not compare the MAC in passthru mode (the kernel gives it the parent's)", () => {
    const desired = makeDesired({ macvlanEndpoints: [makeMacvlan({ mode: "passthru" })] });
    const observed = edit(observeConverged(), (links) => {
      eth0Of(links).macvlanMode = "passthru";
      eth0Of(links).mac = PARENT.mac;
    });
    expect(ipWork(planHost(desired, observed, OPTIONS))).toEqual(EMPTY);
  });

  it("removes a disconnected macvlan endpoint inside the sandbox, and its default route", () => {
    const desired = makeDesired({ macvlanEndpoints: [], defaultGateway: undefined });
    expect(ipWork(planHost(desired, observeConverged(), OPTIONS))).toEqual({
      ...EMPTY,
      sandboxBatches: [{ netns: NS, lines: ["link del eth0", "route flush exact 0.0.0.0/0"] }],
    });
  });

  it("leaves a removed node's macvlan to its namespace's deletion, and prunes strays on the host", () => {
    const observed = observeConverged();
    observed.links.push(link(TEMP, { kind: "macvlan", index: 9, peerIndex: 7 }));
    const empty: DesiredHost = { bridges: [], sandboxes: [], portMappings: [] };
    expect(ipWork(planHost(empty, observed, OPTIONS))).toEqual({
      ...EMPTY,
      hostBatch: [`link del ${TEMP}`],
      netnsDelete: [NS],
    });
  });

  it("shares eth0, eth1, ... with veth endpoints", () => {
    expect(() =>
      assertValidDesiredHost(
        makeDesired({
          macvlanEndpoints: [makeMacvlan(), makeMacvlan({ endpointId: "ep_macvlantwoaaaaaa" })],
        }),
        PREFIX,
      ),
    ).toThrow(/ifName/);
    expect(() =>
      assertValidDesiredHost(
        makeDesired({ macvlanEndpoints: [makeMacvlan({ parent: "eth0 up\nlink" })] }),
        PREFIX,
      ),
    ).toThrow(/parent/);
    expect(() =>
      assertValidDesiredHost(
        makeDesired({ macvlanEndpoints: [makeMacvlan({ mode: "source" as never })] }),
        PREFIX,
      ),
    ).toThrow(/mode/);
  });
});

describe("isMacvlanEndpointLink", () => {
  it("reads what ip -j -d prints for a macvlan moved into a sandbox", () => {
    const [, parsed] = parseIpAddrJson(
      JSON.stringify([
        { ifindex: 1, ifname: "lo", flags: ["LOOPBACK", "UP"], mtu: 65536, address: "00:00:00:00:00:00" },
        {
          ifindex: 2,
          link_index: 7,
          ifname: "eth0",
          flags: ["BROADCAST", "MULTICAST", "UP"],
          mtu: 1500,
          address: "02:42:64:00:00:01",
          link_netnsid: 0,
          linkinfo: { info_kind: "macvlan", info_data: { mode: "bridge", bcqueuelen: 1000 } },
          addr_info: [{ family: "inet", local: "100.0.0.1", prefixlen: 24 }],
        },
      ]),
    );
    expect(parsed).toMatchObject({ kind: "macvlan", macvlanMode: "bridge", peerIndex: 7 });
    expect(parsed && isMacvlanEndpointLink(parsed, makeMacvlan(), PARENT)).toBe(true);
  });
});
