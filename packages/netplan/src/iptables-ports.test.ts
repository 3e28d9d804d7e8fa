import { describe, expect, it } from "vitest";
import type { DesiredPortMapping } from "./desired";
import { renderIptablesRestore } from "./iptables";
import {
  assertValidPortMappings,
  renderBridgeDnatRules,
  renderBridgePortAccepts,
  renderBridgePostRules,
  renderPortJumps,
  renderPortRawTable,
  routeLocalnetBridges,
} from "./iptables-ports";
import { makeBridge } from "./test-fixtures";

const BR = "lnbr-abcdefgh";
const BR2 = "lnbr-zzzzzzzz";

function makeMapping(overrides: Partial<DesiredPortMapping> = {}): DesiredPortMapping {
  return {
    protocol: "tcp",
    hostPort: 8080,
    targetAddress: "172.30.0.2",
    targetPort: 80,
    bridge: BR,
    ...overrides,
  };
}

const JUMPS = [
  "-A LABNET-PREROUTING ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j LABNET-DNAT",
  "-A LABNET-OUTPUT -m addrtype --dst-type LOCAL -j LABNET-DNAT",
];
const LOOPBACK = { bindAddress: "127.0.0.1" };

const DNAT = `LABNET-DNAT-${BR}`;
const POST = `LABNET-POST-${BR}`;
const FWD = `LABNET-FWD-${BR}`;

describe("renderPortJumps", () => {
  it("renders no rules without mappings, not even the jumps", () => {
    expect(renderPortJumps([])).toEqual([]);
  });
  it("jumps from prerouting (not for loopback) and output (loopback too), and keeps loopback-bound DNATs in output", () => {
    expect(renderPortJumps([makeMapping(), makeMapping({ hostPort: 8081, ...LOOPBACK })])).toEqual([
      ...JUMPS,
      "-A LABNET-OUTPUT -d 127.0.0.1/32 -p tcp -m tcp --dport 8081 -j DNAT --to-destination 172.30.0.2:80",
    ]);
  });
});

describe("a bridge's port chains", () => {
  const mappings = [
    makeMapping({ protocol: "udp", hostPort: 5353, targetPort: 53, bindAddress: "198.18.40.1" }),
    makeMapping({ hostPort: 8081 }),
    makeMapping({ hostPort: 8080, ...LOOPBACK }),
    makeMapping({ hostPort: 9000, targetAddress: "172.31.0.2", bridge: BR2 }),
  ];
  it("DNATs its own mappings, sorted by protocol then port, leaving loopback-bound ones to output", () => {
    expect(renderBridgeDnatRules(BR, mappings)).toEqual([
      `-A ${DNAT} -p tcp -m tcp --dport 8081 -j DNAT --to-destination 172.30.0.2:80`,
      `-A ${DNAT} -d 198.18.40.1/32 -p udp -m udp --dport 5353 -j DNAT --to-destination 172.30.0.2:53`,
    ]);
    expect(renderBridgeDnatRules(BR2, mappings)).toEqual([
      `-A LABNET-DNAT-${BR2} -p tcp -m tcp --dport 9000 -j DNAT --to-destination 172.31.0.2:80`,
    ]);
  });
  it("MASQUERADEs one hairpin per target, and loopback callers when a loopback mapping targets it", () => {
    expect(renderBridgePostRules(BR, mappings)).toEqual([
      `-A ${POST} -s 172.30.0.2/32 -d 172.30.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE`,
      `-A ${POST} -s 172.30.0.2/32 -d 172.30.0.2/32 -p udp -m udp --dport 53 -j MASQUERADE`,
      `-A ${POST} -s 127.0.0.0/8 -o ${BR} -j MASQUERADE`,
    ]);
    // On every address: loopback callers too.
    expect(renderBridgePostRules(BR2, mappings)).toEqual([
      `-A LABNET-POST-${BR2} -s 172.31.0.2/32 -d 172.31.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE`,
      `-A LABNET-POST-${BR2} -s 127.0.0.0/8 -o ${BR2} -j MASQUERADE`,
    ]);
    expect(renderBridgePostRules(BR2, [makeMapping({ bridge: BR2, bindAddress: "198.18.40.1" })])).toEqual([
      `-A LABNET-POST-${BR2} -s 172.30.0.2/32 -d 172.30.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE`,
    ]);
  });
  it("accepts DNATed flows, one accept per target whatever the host ports", () => {
    expect(
      renderBridgePortAccepts(BR, [
        makeMapping(),
        makeMapping({ hostPort: 8081 }),
        makeMapping({ protocol: "udp", hostPort: 8080 }),
      ]),
    ).toEqual([
      `-A ${FWD} -d 172.30.0.2/32 -o ${BR} -p tcp -m tcp --dport 80 -m conntrack --ctstate DNAT -j ACCEPT`,
      `-A ${FWD} -d 172.30.0.2/32 -o ${BR} -p udp -m udp --dport 80 -m conntrack --ctstate DNAT -j ACCEPT`,
    ]);
    expect(renderBridgePortAccepts(BR, [])).toEqual([]);
  });
});

describe("renderPortRawTable", () => {
  const hooked = new Set(["-A PREROUTING -j LABNET-RAW"]);
  const cases: {
    name: string;
    given: { mappings: DesiredPortMapping[]; raw: Set<string> | undefined };
    want: string[];
  }[] = [
    {
      name: "never hooked and nothing published: no raw section",
      given: { mappings: [], raw: undefined },
      want: [],
    },
    {
      name: "never hooked and nothing on loopback (a specific address only): no raw section",
      given: { mappings: [makeMapping({ bindAddress: "198.18.40.1" })], raw: undefined },
      want: [],
    },
    {
      name: "first loopback mapping: chain, hook first in PREROUTING, drops for its bridge",
      given: {
        mappings: [
          makeMapping(LOOPBACK),
          makeMapping({ hostPort: 1, bridge: BR2, bindAddress: "198.18.40.1" }),
        ],
        raw: new Set(),
      },
      want: [
        "*raw",
        ":LABNET-RAW - [0:0]",
        "-I PREROUTING 1 -j LABNET-RAW",
        `-A LABNET-RAW -d 127.0.0.0/8 -i ${BR} -j DROP`,
        `-A LABNET-RAW -s 127.0.0.0/8 -i ${BR} -j DROP`,
        "COMMIT",
      ],
    },
    {
      name: "a mapping on every address answers loopback too: drops for its bridge",
      given: { mappings: [makeMapping()], raw: undefined },
      want: [
        "*raw",
        ":LABNET-RAW - [0:0]",
        "-I PREROUTING 1 -j LABNET-RAW",
        `-A LABNET-RAW -d 127.0.0.0/8 -i ${BR} -j DROP`,
        `-A LABNET-RAW -s 127.0.0.0/8 -i ${BR} -j DROP`,
        "COMMIT",
      ],
    },
    {
      name: "hooked already: not hooked again",
      given: { mappings: [makeMapping(LOOPBACK)], raw: hooked },
      want: [
        "*raw",
        ":LABNET-RAW - [0:0]",
        `-A LABNET-RAW -d 127.0.0.0/8 -i ${BR} -j DROP`,
        `-A LABNET-RAW -s 127.0.0.0/8 -i ${BR} -j DROP`,
        "COMMIT",
      ],
    },
    {
      name: "last mapping gone: the chain is declared (flushed) and left empty",
      given: { mappings: [], raw: hooked },
      want: ["*raw", ":LABNET-RAW - [0:0]", "COMMIT"],
    },
  ];
  it.each(cases)("$name", ({ given, want }) => {
    expect(renderPortRawTable(given.mappings, given.raw)).toEqual(want);
  });
});

describe("routeLocalnetBridges", () => {
  it("lists each bridge a mapping on loopback or every address targets once, sorted (not a specific address)", () => {
    expect(
      routeLocalnetBridges([
        makeMapping({ bridge: BR2, bindAddress: "127.0.0.2" }),
        makeMapping(LOOPBACK),
        makeMapping({ hostPort: 1, bridge: BR2, bindAddress: "127.0.0.1" }),
        makeMapping({ hostPort: 2, bridge: "lnbr-cccccccc" }),
        makeMapping({ hostPort: 3, bridge: "lnbr-dddddddd", bindAddress: "10.0.0.1" }),
      ]),
    ).toEqual([BR, "lnbr-cccccccc", BR2]);
  });
});

describe("assertValidPortMappings", () => {
  const cases: { name: string; given: DesiredPortMapping }[] = [
    { name: "injected protocol", given: makeMapping({ protocol: "tcp -j ACCEPT" as "tcp" }) },
    { name: "bind 0.0.0.0 instead of none", given: makeMapping({ bindAddress: "0.0.0.0" }) },
    { name: "bind not an address", given: makeMapping({ bindAddress: "10.0.0.1/8" }) },
    { name: "host port 0", given: makeMapping({ hostPort: 0 }) },
    { name: "target port too large", given: makeMapping({ targetPort: 65536 }) },
    { name: "fractional port", given: makeMapping({ hostPort: 80.5 }) },
    { name: "target with a newline", given: makeMapping({ targetAddress: "172.30.0.2\n-A X" }) },
    { name: "a bridge name of Labnet's own forms", given: makeMapping({ bridge: "lnvabcdefghij" }) },
  ];
  it.each(cases)("refuses $name", ({ given }) => {
    expect(() => assertValidPortMappings([given])).toThrow(/invalid desired state/);
  });
});

describe("renderIptablesRestore with published ports", () => {
  const bridge = makeBridge({ bridge: BR });
  const payload = renderIptablesRestore([bridge], "", [
    makeMapping(),
    makeMapping({ ...LOOPBACK, hostPort: 9 }),
  ]);
  const lines = payload.split("\n");

  it("declares the bridge's chains, jumps to them, and puts every port rule in its table", () => {
    const nat = lines.slice(lines.indexOf("*nat"), lines.indexOf("COMMIT"));
    expect(nat).toContain(":LABNET-DNAT - [0:0]");
    expect(nat).toContain(`:${DNAT} - [0:0]`);
    expect(nat).toContain(`-A LABNET-DNAT -j ${DNAT}`);
    expect(nat).toContain(`-A LABNET-POSTROUTING -o ${BR} -j ${POST}`);
    expect(nat).toContain(`-A ${DNAT} -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.30.0.2:80`);
    const filter = lines.slice(lines.indexOf("*filter"));
    expect(filter).toContain(`-A LABNET-FORWARD -o ${BR} -j ${FWD}`);
    expect(filter).toContain(
      `-A ${FWD} -d 172.30.0.2/32 -o ${BR} -p tcp -m tcp --dport 80 -m conntrack --ctstate DNAT -j ACCEPT`,
    );
    expect(payload).toMatch(/\*raw\n:LABNET-RAW - \[0:0\]\n-I PREROUTING 1 -j LABNET-RAW\n/);
    expect(payload.endsWith("COMMIT\n")).toBe(true);
  });

  it("accepts published flows after isolation and established replies, before any drop", () => {
    // LABNET-FORWARD: isolation, then the bridge's chain, then (none here) drops.
    const isolation = lines.indexOf("-A LABNET-FORWARD -j LABNET-ISOLATION");
    const jump = lines.indexOf(`-A LABNET-FORWARD -o ${BR} -j ${FWD}`);
    expect(isolation).toBeGreaterThan(0);
    expect(jump).toBeGreaterThan(isolation);
    // In the bridge's chain: replies first, then the published flows, drops (icc) last.
    const own = lines.filter((line) => line.startsWith(`-A ${FWD} `));
    expect(own[0]).toMatch(/--ctstate RELATED,ESTABLISHED -j ACCEPT$/);
    expect(own[1]).toMatch(/--ctstate DNAT -j ACCEPT$/);
    const firstDrop = lines.findIndex(
      (line) => line.startsWith("-A LABNET-FORWARD") && line.endsWith("-j DROP"),
    );
    expect(firstDrop === -1 || firstDrop > jump).toBe(true);
  });
});
