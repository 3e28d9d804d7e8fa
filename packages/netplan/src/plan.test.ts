import { describe, expect, it } from "vitest";
import type { DesiredEndpoint, DesiredHost, DesiredSandbox } from "./desired";
import { ruleSetAfter } from "./iptables-applied";
import type { ObservedHost, ObservedLink } from "./observed";
import { describePlan, foreignBridgeNames, type HostPlan, isIpNoop, planHost } from "./plan";

const PREFIX = "lt4f2ah1-";
const BR = "lnbr-aaaaaaaa";
const NS1 = `${PREFIX}sandboxoneaaaaa`;
const NS2 = `${PREFIX}sandboxtwoaaaaa`;
const HV1 = "lnvendpointon";
const HV2 = "lnvendpointtw";
const OPTIONS = { netnsPrefix: PREFIX, prune: true };

function makeEndpoint(overrides: Partial<DesiredEndpoint> = {}): DesiredEndpoint {
  return {
    endpointId: "ep_endpointoneaaaaa",
    ifName: "eth0",
    hostVeth: HV1,
    bridge: BR,
    address: "172.30.0.2/24",
    mac: "02:42:ac:1e:00:02",
    mtu: 1500,
    ...overrides,
  };
}

function makeSandbox(overrides: Partial<DesiredSandbox> = {}): DesiredSandbox {
  return {
    nodeId: "nod_sandboxoneaaaaa",
    netns: NS1,
    endpoints: [makeEndpoint()],
    defaultGateway: "172.30.0.1",
    ...overrides,
  };
}

/** One bridge 172.30.0.1/24 and two sandboxes at .2 and .3. */
function makeDesired(): DesiredHost {
  return {
    bridges: [
      {
        networkId: "net_aaaaaaaabbbbbbbb",
        bridge: BR,
        gateways: ["172.30.0.1/24"],
        subnets: ["172.30.0.0/24"],
        internal: false,
        icc: true,
        isolated: true,
        mtu: 1500,
      },
    ],
    sandboxes: [
      makeSandbox(),
      makeSandbox({
        nodeId: "nod_sandboxtwoaaaaa",
        netns: NS2,
        endpoints: [
          makeEndpoint({
            endpointId: "ep_endpointtwoaaaaa",
            hostVeth: HV2,
            address: "172.30.0.3/24",
            mac: "02:42:ac:1e:00:03",
          }),
        ],
      }),
    ],
    portMappings: [],
  };
}

function link(name: string, overrides: Partial<ObservedLink> = {}): ObservedLink {
  return { name, up: true, mtu: 1500, mac: "aa:bb:cc:00:00:01", addresses: [], index: 1, ...overrides };
}

/** What the kernel looks like after `desired` was applied: veth ends point at each other. */
function observeConverged(desired: DesiredHost): ObservedHost {
  const hostLinks: ObservedLink[] = [link("lo", { mtu: 65536, mac: "00:00:00:00:00:00", index: 1 })];
  let nextHostIndex = 2;
  for (const bridge of desired.bridges) {
    hostLinks.push(
      link(bridge.bridge, {
        kind: "bridge",
        mac: "02:42:ac:1e:00:01",
        addresses: [...bridge.gateways],
        index: nextHostIndex++,
      }),
    );
  }
  const sandboxes: ObservedHost["sandboxes"] = {};
  for (const sandbox of desired.sandboxes) {
    const links: ObservedLink[] = [link("lo", { mtu: 65536, addresses: ["127.0.0.1/8"], index: 1 })];
    sandbox.endpoints.forEach((endpoint, i) => {
      const hostIndex = nextHostIndex++;
      const sandboxIndex = 2 + i;
      hostLinks.push(
        link(endpoint.hostVeth, {
          kind: "veth",
          master: endpoint.bridge,
          index: hostIndex,
          peerIndex: sandboxIndex,
        }),
      );
      links.push(
        link(endpoint.ifName, {
          kind: "veth",
          mac: endpoint.mac,
          addresses: [endpoint.address],
          index: sandboxIndex,
          peerIndex: hostIndex,
        }),
      );
    });
    sandboxes[sandbox.netns] =
      sandbox.defaultGateway === undefined ? { links } : { links, defaultGateway: sandbox.defaultGateway };
  }
  return { netns: desired.sandboxes.map((s) => s.netns), links: hostLinks, iptablesSave: "", sandboxes };
}

/** The `ip` part of a plan (the iptables payload is always complete and tested on its own). */
function ipWork(plan: HostPlan): Omit<HostPlan, "iptablesRestore"> {
  const { iptablesRestore: _payload, ...rest } = plan;
  return rest;
}

const EMPTY = { netnsAdd: [], hostBatch: [], sandboxBatches: [], netnsDelete: [] };

function createVeth(hostVeth: string, peer: string, mac: string, netns: string): string[] {
  return [
    `link add ${hostVeth} mtu 1500 master ${BR} up type veth peer name ${peer} mtu 1500 address ${mac} netns ${netns}`,
    `link set ${hostVeth} addrgenmode none`,
    `link set ${hostVeth} type bridge_slave hairpin on`,
  ];
}

function setupIf(ifName: string, address: string): string[] {
  return [
    `link set ${ifName} addrgenmode none`,
    `addr replace ${address} dev ${ifName}`,
    `link set ${ifName} up`,
  ];
}

function update(observed: ObservedHost, edit: (copy: ObservedHost) => void): ObservedHost {
  const copy = structuredClone(observed);
  edit(copy);
  return copy;
}

function findLink(links: ObservedLink[], name: string): ObservedLink {
  const found = links.find((l) => l.name === name);
  if (found === undefined) {
    throw new Error(`fixture has no link ${name}`);
  }
  return found;
}

function sandboxOf(observed: ObservedHost, netns: string) {
  const sandbox = observed.sandboxes[netns];
  if (sandbox === undefined) {
    throw new Error(`fixture has no sandbox ${netns}`);
  }
  return sandbox;
}

describe("planHost on a new host", () => {
  it("creates the bridge, both sandboxes, their veths, addresses and routes", () => {
    const observed: ObservedHost = {
      netns: ["foreign"],
      links: [link("lo"), link("eth0", { index: 2 }), link("docker0", { kind: "bridge", index: 3 })],
      iptablesSave: "",
      sandboxes: {},
    };
    expect(ipWork(planHost(makeDesired(), observed, OPTIONS))).toEqual({
      netnsAdd: [NS1, NS2],
      hostBatch: [
        `link add ${BR} address 02:42:ac:1e:00:01 mtu 1500 type bridge`,
        `link set ${BR} addrgenmode none`,
        `addr replace 172.30.0.1/24 dev ${BR}`,
        `link set ${BR} up`,
        ...createVeth(HV1, "eth0", "02:42:ac:1e:00:02", NS1),
        ...createVeth(HV2, "eth0", "02:42:ac:1e:00:03", NS2),
      ],
      sandboxBatches: [
        {
          netns: NS1,
          lines: [
            "link set lo up",
            ...setupIf("eth0", "172.30.0.2/24"),
            "route replace default via 172.30.0.1",
          ],
        },
        {
          netns: NS2,
          lines: [
            "link set lo up",
            ...setupIf("eth0", "172.30.0.3/24"),
            "route replace default via 172.30.0.1",
          ],
        },
      ],
      netnsDelete: [],
    });
  });

  it("gives a sandbox without endpoints (network mode none) only lo", () => {
    const desired: DesiredHost = {
      bridges: [],
      sandboxes: [makeSandbox({ endpoints: [], defaultGateway: undefined })],
      portMappings: [],
    };
    const observed: ObservedHost = { netns: [], links: [], iptablesSave: "", sandboxes: {} };
    expect(ipWork(planHost(desired, observed, OPTIONS))).toEqual({
      ...EMPTY,
      netnsAdd: [NS1],
      sandboxBatches: [{ netns: NS1, lines: ["link set lo up"] }],
    });
  });
});

describe("planHost on a converged host", () => {
  it.each([true, false])("renders no ip lines (prune %s)", (prune) => {
    const desired = makeDesired();
    const plan = planHost(desired, observeConverged(desired), { netnsPrefix: PREFIX, prune });
    expect(ipWork(plan)).toEqual(EMPTY);
    expect(isIpNoop(plan)).toBe(true);
  });

  it("is independent of the order of desired bridges and sandboxes", () => {
    const desired = makeDesired();
    const reversed = { ...desired, sandboxes: [...desired.sandboxes].reverse() };
    const observed: ObservedHost = { netns: [], links: [], iptablesSave: "", sandboxes: {} };
    expect(planHost(reversed, observed, OPTIONS)).toEqual(planHost(desired, observed, OPTIONS));
  });
});

describe("planHost converges half-applied and drifted states", () => {
  const desired = makeDesired();
  const converged = observeConverged(desired);
  const route = "route replace default via 172.30.0.1";

  const cases: { name: string; given: ObservedHost; want: Omit<HostPlan, "iptablesRestore"> }[] = [
    {
      name: "bridge exists without its address",
      given: update(converged, (o) => {
        findLink(o.links, BR).addresses = [];
      }),
      want: { ...EMPTY, hostBatch: [`addr replace 172.30.0.1/24 dev ${BR}`] },
    },
    {
      name: "bridge took a port's MAC (created without its own)",
      given: update(converged, (o) => {
        findLink(o.links, BR).mac = "aa:bb:cc:00:00:07";
      }),
      want: { ...EMPTY, hostBatch: [`link set ${BR} address 02:42:ac:1e:00:01`] },
    },
    {
      name: "bridge down, wrong mtu, a stale address",
      given: update(converged, (o) => {
        const bridge = findLink(o.links, BR);
        Object.assign(bridge, { up: false, mtu: 9000, addresses: ["10.0.0.1/24"] });
      }),
      want: {
        ...EMPTY,
        hostBatch: [
          `link set ${BR} mtu 1500`,
          `addr del 10.0.0.1/24 dev ${BR}`,
          `addr replace 172.30.0.1/24 dev ${BR}`,
          `link set ${BR} up`,
        ],
      },
    },
    {
      name: "a link of another kind holds the bridge name",
      given: update(converged, (o) => {
        findLink(o.links, BR).kind = "veth";
      }),
      want: {
        ...EMPTY,
        hostBatch: [
          `link del ${BR}`,
          `link add ${BR} address 02:42:ac:1e:00:01 mtu 1500 type bridge`,
          `link set ${BR} addrgenmode none`,
          `addr replace 172.30.0.1/24 dev ${BR}`,
          `link set ${BR} up`,
        ],
      },
    },
    {
      name: "netns exists without eth0 (crash after netns add)",
      given: update(converged, (o) => {
        o.links = o.links.filter((l) => l.name !== HV1);
        sandboxOf(o, NS1).links = [link("lo", { up: false })];
        delete sandboxOf(o, NS1).defaultGateway;
      }),
      want: {
        ...EMPTY,
        hostBatch: createVeth(HV1, "eth0", "02:42:ac:1e:00:02", NS1),
        sandboxBatches: [
          { netns: NS1, lines: ["link set lo up", ...setupIf("eth0", "172.30.0.2/24"), route] },
        ],
      },
    },
    {
      name: "stale host veth of a sandbox whose netns is gone",
      given: update(converged, (o) => {
        o.netns = o.netns.filter((n) => n !== NS1);
        delete o.sandboxes[NS1];
      }),
      want: {
        ...EMPTY,
        netnsAdd: [NS1],
        hostBatch: [`link del ${HV1}`, ...createVeth(HV1, "eth0", "02:42:ac:1e:00:02", NS1)],
        sandboxBatches: [
          { netns: NS1, lines: ["link set lo up", ...setupIf("eth0", "172.30.0.2/24"), route] },
        ],
      },
    },
    {
      name: "eth0 lost its address, is down and the default route is gone",
      given: update(converged, (o) => {
        Object.assign(findLink(sandboxOf(o, NS1).links, "eth0"), { up: false, addresses: [] });
        delete sandboxOf(o, NS1).defaultGateway;
      }),
      want: {
        ...EMPTY,
        sandboxBatches: [
          { netns: NS1, lines: ["addr replace 172.30.0.2/24 dev eth0", "link set eth0 up", route] },
        ],
      },
    },
    {
      name: "eth0 carries an extra address, wrong mtu and another default gateway",
      given: update(converged, (o) => {
        Object.assign(findLink(sandboxOf(o, NS1).links, "eth0"), {
          mtu: 1400,
          addresses: ["172.30.0.2/24", "172.30.0.99/24"],
        });
        sandboxOf(o, NS1).defaultGateway = "172.30.0.254";
      }),
      want: {
        ...EMPTY,
        sandboxBatches: [
          { netns: NS1, lines: ["link set eth0 mtu 1500", "addr del 172.30.0.99/24 dev eth0", route] },
        ],
      },
    },
    {
      name: "host veth detached from the bridge, down, wrong mtu",
      given: update(converged, (o) => {
        const hostVeth = findLink(o.links, HV1);
        delete hostVeth.master;
        Object.assign(hostVeth, { up: false, mtu: 1400 });
      }),
      want: {
        ...EMPTY,
        hostBatch: [
          `link set ${HV1} mtu 1500`,
          `link set ${HV1} master ${BR}`,
          `link set ${HV1} type bridge_slave hairpin on`,
          `link set ${HV1} up`,
        ],
      },
    },
    {
      name: "host veth lost hairpin",
      given: update(converged, (o) => {
        findLink(o.links, HV1).hairpin = false;
      }),
      want: { ...EMPTY, hostBatch: [`link set ${HV1} type bridge_slave hairpin on`] },
    },
    {
      name: "eth0 belongs to another endpoint's pair: that pair is deleted from the host side",
      given: update(converged, (o) => {
        findLink(o.links, HV1).name = "lnvoldendpoin";
        findLink(sandboxOf(o, NS1).links, "eth0").mac = "02:42:ac:1e:00:09";
      }),
      want: {
        ...EMPTY,
        hostBatch: ["link del lnvoldendpoin", ...createVeth(HV1, "eth0", "02:42:ac:1e:00:02", NS1)],
        sandboxBatches: [{ netns: NS1, lines: [...setupIf("eth0", "172.30.0.2/24"), route] }],
      },
    },
    {
      name: "eth0 held by a link without a Labnet host peer: new veth arrives under a temp name",
      given: update(converged, (o) => {
        o.links = o.links.filter((l) => l.name !== HV1);
        Object.assign(findLink(sandboxOf(o, NS1).links, "eth0"), { kind: "macvlan", peerIndex: 1 });
      }),
      want: {
        ...EMPTY,
        hostBatch: createVeth(HV1, "lntendpointon", "02:42:ac:1e:00:02", NS1),
        sandboxBatches: [
          {
            netns: NS1,
            lines: [
              "link del eth0",
              "link set lntendpointon name eth0",
              ...setupIf("eth0", "172.30.0.2/24"),
              route,
            ],
          },
        ],
      },
    },
    {
      name: "disconnected endpoint eth1 is removed through its host veth",
      given: update(converged, (o) => {
        o.links.push(link("lnvgoneendpoi", { kind: "veth", master: BR, index: 50, peerIndex: 7 }));
        sandboxOf(o, NS1).links.push(link("eth1", { kind: "veth", index: 7, peerIndex: 50 }));
      }),
      want: {
        ...EMPTY,
        hostBatch: ["link del lnvgoneendpoi"],
        sandboxBatches: [{ netns: NS1, lines: [route] }],
      },
    },
    {
      name: "leftover temp peer of an interrupted rename is removed inside the sandbox",
      given: update(converged, (o) => {
        sandboxOf(o, NS1).links.push(link("lntendpointon", { kind: "veth", index: 9 }));
      }),
      want: { ...EMPTY, sandboxBatches: [{ netns: NS1, lines: ["link del lntendpointon", route] }] },
    },
  ];
  it.each(cases)("$name", ({ given, want }) => {
    expect(ipWork(planHost(desired, given, OPTIONS))).toEqual(want);
  });

  it("removes the default route of a sandbox that should have none", () => {
    const noGateway: DesiredHost = {
      ...desired,
      sandboxes: desired.sandboxes.map((s) => (s.netns === NS1 ? { ...s, defaultGateway: undefined } : s)),
    };
    expect(ipWork(planHost(noGateway, converged, OPTIONS))).toEqual({
      ...EMPTY,
      sandboxBatches: [{ netns: NS1, lines: ["route flush exact 0.0.0.0/0"] }],
    });
  });
});

describe("planHost scope", () => {
  it("leaves a desired sandbox that exists but was not observed alone, and keeps its host veth", () => {
    const desired = makeDesired();
    const observed = update(observeConverged(desired), (o) => {
      delete o.sandboxes[NS2];
      findLink(o.links, HV2).up = false; // host-side drift of an unobserved sandbox is not its business either
    });
    expect(ipWork(planHost(desired, observed, OPTIONS))).toEqual(EMPTY);
  });
});

describe("planHost pruning", () => {
  const desired = makeDesired();
  const withForeignAndOrphans = update(observeConverged(desired), (o) => {
    o.netns.push(
      "foreign",
      "ln-abcdefghabcdefgh",
      `${PREFIX}orphanaaaaaaaaaa`,
      "lt4f2ah1x",
      `${PREFIX}x\nnetns del foreign`,
    );
    o.links.push(
      link("eth0", { index: 60 }),
      link("docker0", { kind: "bridge", index: 61 }),
      link("veth1a2b3c4", { kind: "veth", master: "docker0", index: 62 }),
      link("vxlan257", { kind: "vxlan", index: 63 }),
      link("lnbr-zzzzzzzz", { kind: "bridge", index: 64 }),
      link("lnvzzzzzzzzzz", { kind: "veth", master: "lnbr-zzzzzzzz", index: 65 }),
      // A chosen name: Labnet's by its alias, so an orphan; br-other without it is not Labnet's.
      link("br-gone", { kind: "bridge", alias: "labnet", index: 66 }),
      link("br-other", { kind: "bridge", alias: "not labnet", index: 67 }),
    );
  });

  const cases: {
    name: string;
    given: { desired: DesiredHost; prune: boolean };
    want: Omit<HostPlan, "iptablesRestore">;
  }[] = [
    {
      name: "removes exactly the Labnet objects that are not desired",
      given: { desired, prune: true },
      want: {
        ...EMPTY,
        hostBatch: ["link del lnvzzzzzzzzzz", "link del br-gone", "link del lnbr-zzzzzzzz"],
        netnsDelete: [`${PREFIX}orphanaaaaaaaaaa`],
      },
    },
    { name: "without prune touches nothing", given: { desired, prune: false }, want: EMPTY },
    {
      name: "empty desired state removes every Labnet object and nothing else",
      given: { desired: { bridges: [], sandboxes: [], portMappings: [] }, prune: true },
      want: {
        ...EMPTY,
        hostBatch: [
          `link del ${HV1}`,
          `link del ${HV2}`,
          "link del lnvzzzzzzzzzz",
          "link del br-gone",
          `link del ${BR}`,
          "link del lnbr-zzzzzzzz",
        ],
        netnsDelete: [`${PREFIX}orphanaaaaaaaaaa`, NS1, NS2],
      },
    },
    {
      name: "sandboxes being removed take their host veths with their namespace: no link del of their own",
      given: {
        desired: {
          bridges: desired.bridges,
          sandboxes: [],
          portMappings: [],
          departingHostVeths: [HV1, HV2],
        },
        prune: true,
      },
      want: {
        ...EMPTY,
        hostBatch: ["link del lnvzzzzzzzzzz", "link del br-gone", "link del lnbr-zzzzzzzz"],
        netnsDelete: [`${PREFIX}orphanaaaaaaaaaa`, NS1, NS2],
      },
    },
  ];
  it.each(cases)("$name", ({ given, want }) => {
    expect(
      ipWork(planHost(given.desired, withForeignAndOrphans, { netnsPrefix: PREFIX, prune: given.prune })),
    ).toEqual(want);
  });
});

describe("planHost with a chosen bridge name", () => {
  const desired = (): DesiredHost => {
    const base = makeDesired();
    return {
      ...base,
      bridges: base.bridges.map((b) => ({ ...b, bridge: "docker0" })),
      sandboxes: base.sandboxes.map((s) => ({
        ...s,
        endpoints: s.endpoints.map((e) => ({ ...e, bridge: "docker0" })),
      })),
    };
  };

  it("creates it marked as Labnet's (link add takes no alias, so right after)", () => {
    const plan = planHost(
      desired(),
      { netns: [], links: [link("lo")], iptablesSave: "", sandboxes: {} },
      OPTIONS,
    );
    expect(plan.hostBatch.slice(0, 3)).toEqual([
      "link add docker0 address 02:42:ac:1e:00:01 mtu 1500 type bridge",
      "link set docker0 alias labnet",
      "link set docker0 addrgenmode none",
    ]);
    expect(plan.iptablesRestore).toContain(":LABNET-FWD-docker0 - [0:0]");
  });

  it("leaves its own bridge alone once built, and refuses a link of that name that is not Labnet's", () => {
    const built = update(observeConverged(desired()), (o) => {
      findLink(o.links, "docker0").alias = "labnet";
    });
    expect(ipWork(planHost(desired(), built, OPTIONS))).toEqual(EMPTY);
    expect(foreignBridgeNames(desired(), built)).toEqual([]);

    const someoneElses = update(built, (o) => {
      delete findLink(o.links, "docker0").alias;
    });
    expect(foreignBridgeNames(desired(), someoneElses)).toEqual(["docker0"]);
    expect(() => planHost(desired(), someoneElses, OPTIONS)).toThrow(/not Labnet's: docker0/);
  });
});

describe("planHost iptables", () => {
  it("renders no MASQUERADE for an internal network", () => {
    const desired = makeDesired();
    const internal = { ...desired, bridges: desired.bridges.map((b) => ({ ...b, internal: true })) };
    const plan = planHost(internal, observeConverged(internal), OPTIONS);
    expect(plan.iptablesRestore).not.toContain("MASQUERADE");
    expect(plan.iptablesRestore).toContain(`-A LABNET-FORWARD -i ${BR} -o ${BR} -j ACCEPT`);
  });

  it("does not duplicate hooks that are present", () => {
    const desired = makeDesired();
    const first = planHost(desired, observeConverged(desired), OPTIONS).iptablesRestore;
    const observed = update(observeConverged(desired), (o) => {
      // iptables-save prints an inserted rule as -A; the MASQUERADE rule was lost meanwhile.
      o.iptablesSave = first
        .replace("-I FORWARD 1 -j", "-A FORWARD -j")
        .replace(`-A LABNET-POSTROUTING -s 172.30.0.0/24 ! -o ${BR} -j MASQUERADE\n`, "");
    });
    const second = planHost(desired, observed, OPTIONS).iptablesRestore;
    expect(first).toContain("-A POSTROUTING -j LABNET-POSTROUTING");
    expect(second).not.toContain("-A POSTROUTING -j LABNET-POSTROUTING");
    expect(second).not.toContain("FORWARD 1");
    // The lost rule goes back where it was, without flushing the chain.
    expect(second).toContain(`-I LABNET-POSTROUTING 1 -s 172.30.0.0/24 ! -o ${BR} -j MASQUERADE`);
    expect(second).not.toContain(":LABNET-POSTROUTING");
  });

  it("skips iptables-restore when the kernel holds exactly the rule set, and only then", () => {
    const desired = makeDesired();
    const first = planHost(desired, observeConverged(desired), OPTIONS).iptablesRestore;
    const applied = first.replace("-I FORWARD 1 -j", "-A FORWARD -j");
    const same = update(observeConverged(desired), (o) => {
      o.iptablesSave = applied;
    });
    expect(planHost(desired, same, OPTIONS).iptablesRestore).toBe("");

    const internal = { ...desired, bridges: desired.bridges.map((b) => ({ ...b, internal: true })) };
    expect(planHost(internal, same, OPTIONS).iptablesRestore).not.toContain("MASQUERADE");
    expect(planHost(internal, same, OPTIONS).iptablesRestore).toContain("*nat");
    const reordered = update(observeConverged(desired), (o) => {
      o.iptablesSave = applied.replace(/(-A LABNET-FORWARD [^\n]*\n)(-A LABNET-FORWARD [^\n]*\n)/, "$2$1");
    });
    expect(reordered.iptablesSave).not.toBe(applied);
    // Only the chain that differs is rewritten: nat is as it should be, so it is left alone.
    const rewritten = planHost(desired, reordered, OPTIONS).iptablesRestore;
    expect(rewritten).toContain(":LABNET-FORWARD - [0:0]");
    expect(rewritten).not.toContain("*nat");
    expect(rewritten).not.toContain("-A POSTROUTING -j LABNET-POSTROUTING");
  });
});

describe("ruleSetAfter", () => {
  it("stands in for iptables-save after a restore: the next plan skips the restore, a change does not", () => {
    const desired = makeDesired();
    const before =
      "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j DOCKER\nCOMMIT\n*filter\n:FORWARD DROP [0:0]\n-A FORWARD -j DOCKER-USER\nCOMMIT\n";
    const observed = update(observeConverged(desired), (o) => {
      o.iptablesSave = before;
    });
    const payload = planHost(desired, observed, OPTIONS).iptablesRestore;
    const after = ruleSetAfter(payload, before);
    // Other programs' rules stay; Labnet's hooks are there as iptables-save prints them.
    expect(after).toContain("-A PREROUTING -j DOCKER");
    expect(after).toContain("-A FORWARD -j DOCKER-USER");
    expect(after).toContain("-A FORWARD -j LABNET-FORWARD");
    const again = update(observeConverged(desired), (o) => {
      o.iptablesSave = after;
    });
    expect(planHost(desired, again, OPTIONS).iptablesRestore).toBe("");
    const internal = { ...desired, bridges: desired.bridges.map((b) => ({ ...b, internal: true })) };
    const changed = planHost(internal, again, OPTIONS).iptablesRestore;
    expect(changed).not.toBe("");
    expect(changed).not.toContain("-A POSTROUTING -j LABNET-POSTROUTING");
    // A chain the payload does not declare keeps its rules (--noflush).
    expect(ruleSetAfter("*nat\n:LABNET-DNAT - [0:0]\nCOMMIT\n", after)).toContain(
      `-A LABNET-POSTROUTING -s 172.30.0.0/24 ! -o ${BR} -j MASQUERADE`,
    );
  });
});

describe("planHost refuses desired state that must not reach the kernel", () => {
  const empty: ObservedHost = { netns: [], links: [], iptablesSave: "", sandboxes: {} };
  const base = makeDesired();
  const withEndpoint = (overrides: Partial<DesiredEndpoint>): DesiredHost => ({
    ...base,
    sandboxes: [makeSandbox({ endpoints: [makeEndpoint(overrides)] })],
  });
  const cases: { name: string; given: DesiredHost; prefix?: string }[] = [
    {
      name: "address with an injected command",
      given: withEndpoint({ address: "172.30.0.2/24\nlink del eth0" }),
    },
    { name: "address without prefix", given: withEndpoint({ address: "172.30.0.2" }) },
    { name: "multicast MAC", given: withEndpoint({ mac: "03:42:ac:1e:00:02" }) },
    { name: "uppercase MAC", given: withEndpoint({ mac: "02:42:AC:1E:00:02" }) },
    { name: "foreign host veth name", given: withEndpoint({ hostVeth: "veth0" }) },
    { name: "endpoint on a bridge that is not desired", given: withEndpoint({ bridge: "lnbr-zzzzzzzz" }) },
    { name: "interface name not ethN", given: withEndpoint({ ifName: "net0" }) },
    { name: "mtu out of range", given: withEndpoint({ mtu: 40 }) },
    {
      name: "sandbox outside the prefix",
      given: { ...base, sandboxes: [makeSandbox({ netns: "ln-abcdefgh" })] },
    },
    {
      name: "two sandboxes with one netns",
      given: { ...base, sandboxes: [makeSandbox(), makeSandbox({ endpoints: [] })] },
    },
    {
      name: "gateway that is not an address",
      given: { ...base, sandboxes: [makeSandbox({ defaultGateway: "x" })] },
    },
    {
      name: "bridge with a foreign name",
      given: { ...base, bridges: base.bridges.map((b) => ({ ...b, bridge: "docker0" })) },
    },
    { name: "invalid prefix", given: base, prefix: "lt" },
  ];
  it.each(cases)("$name", ({ given, prefix }) => {
    expect(() => planHost(given, empty, { netnsPrefix: prefix ?? PREFIX, prune: true })).toThrow(/invalid/);
  });
});

describe("describePlan", () => {
  it("names every change of a plan, one line each, with where it happens", () => {
    expect(
      describePlan({
        netnsAdd: ["ln-a"],
        hostBatch: ["link add lnbr-abcdefgh type bridge"],
        sandboxBatches: [{ netns: "ln-a", lines: ["addr replace 172.18.0.2/16 dev eth0"] }],
        iptablesRestore:
          "*nat\n:LABNET-POSTROUTING - [0:0]\n-A LABNET-POSTROUTING -s 172.18.0.0/16 -j MASQUERADE\nCOMMIT\n",
        netnsDelete: ["ln-b"],
      }),
    ).toEqual([
      "netns add ln-a",
      "host: link add lnbr-abcdefgh type bridge",
      "ln-a: addr replace 172.18.0.2/16 dev eth0",
      "iptables: :LABNET-POSTROUTING - [0:0]",
      "iptables: -A LABNET-POSTROUTING -s 172.18.0.0/16 -j MASQUERADE",
      "netns del ln-b",
    ]);
  });
});
