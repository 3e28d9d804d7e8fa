import type { DesiredBridge, DesiredHost, DesiredSandbox } from "@labnet/netplan";
import { describe, expect, it } from "vitest";
import { dropInvalidTargets } from "./desired-validate";

function bridge(id: string, subnet: string, gateway: string): DesiredBridge {
  const prefix = subnet.split("/")[1];
  return {
    networkId: `net_${id}`,
    bridge: `lnbr-${id}`,
    gateways: [`${gateway}/${prefix}`],
    subnets: [subnet],
    internal: false,
    icc: true,
    isolated: true,
    mtu: 1500,
  };
}

function sandbox(id: string, bridgeName: string, address: string): DesiredSandbox {
  return {
    nodeId: `nod_${id}`,
    netns: `ln-${id}`,
    endpoints: [
      {
        endpointId: `ep_${id}`,
        ifName: "eth0",
        hostVeth: `lnv${id}aa`,
        bridge: bridgeName,
        address,
        mac: "02:42:ac:12:00:02",
        mtu: 1500,
      },
    ],
  };
}

describe("dropInvalidTargets", () => {
  it("fails bridges on reserved space or on the host's uplink subnet, and the nodes on them", () => {
    const desired: DesiredHost = {
      bridges: [
        bridge("aaaaaaaa", "172.18.0.0/16", "172.18.0.1"),
        bridge("bbbbbbbb", "127.0.0.0/8", "127.0.0.1"),
        bridge("cccccccc", "198.18.85.0/24", "198.18.85.1"),
        bridge("dddddddd", "224.0.0.0/4", "224.0.0.1"),
      ],
      sandboxes: [
        sandbox("aaaaaaaa", "lnbr-aaaaaaaa", "172.18.0.2/16"),
        sandbox("cccccccc", "lnbr-cccccccc", "198.18.85.2/24"),
      ],
      portMappings: [],
    };
    const { desired: kept, invalid } = dropInvalidTargets(desired, "ln-", ["198.18.85.1/24"]);
    expect(kept.bridges.map((b) => b.bridge)).toEqual(["lnbr-aaaaaaaa"]);
    expect(kept.sandboxes.map((s) => s.nodeId)).toEqual(["nod_aaaaaaaa"]);
    expect(Object.fromEntries(invalid)).toEqual({
      net_bbbbbbbb:
        "refusing bridge lnbr-bbbbbbbb on 127.0.0.0/8: it is loopback (127.0.0.0/8), which no lab host may route to a bridge",
      net_cccccccc:
        "refusing bridge lnbr-cccccccc on 198.18.85.0/24: it overlaps 198.18.85.0/24 of the host's own address 198.18.85.1/24",
      net_dddddddd:
        "refusing bridge lnbr-dddddddd on 224.0.0.0/4: it is multicast (224.0.0.0/4), which no lab host may route to a bridge",
      nod_cccccccc: expect.stringContaining("not a desired bridge"),
    });
  });

  it("keeps the bridge of a subnet next to the uplink's", () => {
    const desired: DesiredHost = {
      bridges: [bridge("aaaaaaaa", "198.18.86.0/24", "198.18.86.1")],
      sandboxes: [],
      portMappings: [],
    };
    expect(dropInvalidTargets(desired, "ln-", ["198.18.85.1/24"]).invalid.size).toBe(0);
  });

  it("fails a bridge whose chosen name the host has as someone else's link, and the nodes on it", () => {
    const docker0 = { ...bridge("aaaaaaaa", "172.17.0.0/16", "172.17.0.1"), bridge: "docker0" };
    const desired: DesiredHost = {
      bridges: [docker0, bridge("bbbbbbbb", "172.18.0.0/16", "172.18.0.1")],
      sandboxes: [
        sandbox("aaaaaaaa", "docker0", "172.17.0.2/16"),
        sandbox("bbbbbbbb", "lnbr-bbbbbbbb", "172.18.0.2/16"),
      ],
      portMappings: [],
    };
    const { desired: kept, invalid } = dropInvalidTargets(desired, "ln-", [], new Set(["docker0"]));
    expect(kept.bridges.map((b) => b.bridge)).toEqual(["lnbr-bbbbbbbb"]);
    expect(kept.sandboxes.map((s) => s.nodeId)).toEqual(["nod_bbbbbbbb"]);
    expect(Object.fromEntries(invalid)).toEqual({
      net_aaaaaaaa:
        "refusing bridge docker0: the host already has an interface of that name that is not Labnet's",
      nod_aaaaaaaa: expect.stringContaining("not a desired bridge"),
    });
  });
});
