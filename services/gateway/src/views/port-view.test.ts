import type { PortMappingRow } from "@labnet/db";
import { describe, expect, it } from "vitest";
import { dockerPortsMap, portMappingView } from "./port-view";

function row(overrides: Partial<PortMappingRow> = {}): PortMappingRow {
  return {
    id: "pm_abcdefghijklmnop",
    hostId: "hst_abcdefghijklmnop",
    nodeId: "nod_abcdefghijklmnop",
    protocol: "tcp",
    bind: "0.0.0.0/0",
    hostPort: 8080,
    containerPort: 80,
    random: false,
    forwardsId: null,
    createdAt: new Date("2026-01-01T00:00:00Z"),
    ...overrides,
  };
}

describe("dockerPortsMap", () => {
  const cases: {
    name: string;
    given: { exposed: string[]; mappings: PortMappingRow[] };
    want: ReturnType<typeof dockerPortsMap>;
  }[] = [
    { name: "nothing", given: { exposed: [], mappings: [] }, want: {} },
    {
      name: "exposed but unpublished ports are null; bindings in ledger order; keys by port",
      given: {
        exposed: ["443/tcp", "80/tcp"],
        mappings: [
          row(),
          row({ bind: "127.0.0.1/32", hostPort: 9090 }),
          row({ protocol: "udp", hostPort: 53, containerPort: 53 }),
        ],
      },
      want: {
        "53/udp": [{ hostIp: "0.0.0.0", hostPort: "53" }],
        "80/tcp": [
          { hostIp: "0.0.0.0", hostPort: "8080" },
          { hostIp: "127.0.0.1", hostPort: "9090" },
        ],
        "443/tcp": null,
      },
    },
  ];
  it.each(cases)("$name", ({ given, want }) => {
    const map = dockerPortsMap(given.exposed, given.mappings);
    expect(map).toEqual(want);
    expect(Object.keys(map)).toEqual(Object.keys(want));
  });
});

describe("portMappingView", () => {
  it("shows the bind as docker port does", () => {
    expect(portMappingView({ ...row({ bind: "10.1.2.3/32" }), nodeName: "web" })).toMatchObject({
      hostIp: "10.1.2.3",
      nodeName: "web",
      display: "80/tcp -> 10.1.2.3:8080",
      createdAt: "2026-01-01T00:00:00.000Z",
    });
  });
});
