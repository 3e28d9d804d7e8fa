import type {
  HostSnapshot,
  IpamConfigRow,
  NetworkRow,
  NodeEndpoint,
  NodeRow,
  PortMappingRow,
} from "@labnet/db";
import { describe, expect, it } from "vitest";
import { desiredHostOf, kernelOwnersOf, liveStateOf } from "./desired-state";
import { dropInvalidTargets } from "./desired-validate";

/** Rows with the fields these functions read; the rest of a row does not matter here. */
function row<T>(fields: Partial<T>): T {
  return fields as T;
}

const network = (id: string, state: NetworkRow["state"]): NetworkRow =>
  row<NetworkRow>({
    id: `net_${id}`,
    name: id,
    driver: "bridge",
    bridgeName: `lnbr-${id.slice(0, 8)}`,
    internal: false,
    icc: true,
    isolated: true,
    mtu: 1500,
    builtin: false,
    state,
  });
const config = (net: string, third: number): IpamConfigRow =>
  row<IpamConfigRow>({
    networkId: `net_${net}`,
    subnet: `172.30.${third}.0/24`,
    gateway: `172.30.${third}.1`,
  });
const node = (id: string, state: NodeRow["state"]): NodeRow =>
  row<NodeRow>({ id: `nod_${id}`, name: id, netns: `ln-${id}`, state });
const endpoint = (nodeId: string, net: string, ifIndex: number, third: number, host: number): NodeEndpoint =>
  row<NodeEndpoint>({
    id: `ep_${nodeId}${ifIndex}`,
    nodeId: `nod_${nodeId}`,
    networkId: `net_${net}`,
    ifIndex,
    hostVeth: `lnv${nodeId.slice(0, 9)}${"abcdefgh"[ifIndex]}`,
    address: `172.30.${third}.${host}/24`,
    mac: `02:42:ac:1e:${third.toString(16).padStart(2, "0")}:${host.toString(16).padStart(2, "0")}`,
    bridgeName: `lnbr-${net.slice(0, 8)}`,
    mtu: 1500,
    internal: false,
    gateway: `172.30.${third}.1`,
    aliases: [],
  });

const A = "aaaaaaaaaaaaaaaa";
const B = "bbbbbbbbbbbbbbbb";
const snapshot: HostSnapshot = {
  operations: [],
  networks: [network(A, "ready"), network(B, "failed")],
  ipamConfigs: [config(A, 0), config(B, 1)],
  nodes: [
    node("okayokayokayokay", "ready"),
    node("gonegonegonegone", "deleting"),
    node("failfailfailfail", "failed"),
  ],
  endpoints: [
    endpoint("okayokayokayokay", A, 0, 0, 2),
    endpoint("okayokayokayokay", B, 1, 1, 2),
    endpoint("gonegonegonegone", A, 0, 0, 3),
    endpoint("failfailfailfail", A, 0, 0, 4),
  ],
  portMappings: [
    row<PortMappingRow>({
      nodeId: "nod_okayokayokayokay",
      protocol: "tcp",
      bind: "0.0.0.0/0",
      hostPort: 8080,
      containerPort: 80,
    }),
  ],
};

describe("desiredHostOf", () => {
  it("builds live networks and nodes only; a failed network's endpoints are left out", () => {
    const desired = desiredHostOf(snapshot);
    expect(desired.bridges.map((b) => [b.bridge, b.gateways])).toEqual([
      ["lnbr-aaaaaaaa", ["172.30.0.1/24"]],
    ]);
    expect(desired.sandboxes).toHaveLength(1);
    expect(desired.sandboxes[0]?.endpoints.map((e) => e.ifName)).toEqual(["eth0"]);
    expect(desired.sandboxes[0]?.defaultGateway).toBe("172.30.0.1");
    expect(desired.portMappings).toEqual([
      {
        protocol: "tcp",
        hostPort: 8080,
        targetAddress: "172.30.0.2",
        targetPort: 80,
        bridge: "lnbr-aaaaaaaa",
      },
    ]);
  });

  it("lists the veths of removed and failed nodes as departing with their namespace", () => {
    expect(desiredHostOf(snapshot).departingHostVeths).toEqual(["lnvgonegonega", "lnvfailfailfa"]);
  });

  it("names each kernel object's owner, removed ones too", () => {
    const owners = kernelOwnersOf(snapshot);
    expect(owners.get("lnbr-bbbbbbbb")).toEqual({ type: "network", id: `net_${B}` });
    expect(owners.get("ln-gonegonegonegone")).toEqual({ type: "node", id: "nod_gonegonegonegone" });
    expect(owners.get("lnvokayokayob")).toEqual({ type: "node", id: "nod_okayokayokayokay" });
  });

  it("keeps live state consistent: endpoints of live nodes on live networks", () => {
    expect(liveStateOf(snapshot).endpoints.map((e) => e.id)).toEqual(["ep_okayokayokayokay0"]);
  });
});

describe("desiredHostOf with a macvlan network", () => {
  const M = "mmmmmmmmmmmmmmmm";
  const macvlan = (options: Record<string, string>): NetworkRow => ({
    ...network(M, "ready"),
    driver: "macvlan",
    options,
  });
  const onMacvlan: NodeEndpoint = {
    ...endpoint("okayokayokayokay", M, 1, 9, 1),
    id: "ep_okayokayokayokaz",
    address: "100.0.0.1/24",
    mac: "02:42:64:00:00:01",
    gateway: "100.0.0.254",
  };
  const withMacvlan = (options: Record<string, string>, first: "macvlan" | "bridge"): HostSnapshot => {
    const [onBridge] = snapshot.endpoints;
    return {
      ...snapshot,
      networks: [network(A, "ready"), macvlan(options)],
      ipamConfigs: [config(A, 0), { ...config(M, 9), subnet: "100.0.0.0/24", gateway: "100.0.0.254" }],
      nodes: snapshot.nodes.slice(0, 1),
      endpoints:
        first === "macvlan"
          ? [{ ...onMacvlan, ifIndex: 0 }, ...(onBridge ? [{ ...onBridge, ifIndex: 1 }] : [])]
          : [...(onBridge ? [onBridge] : []), onMacvlan],
    };
  };

  it("makes its endpoints macvlans of the parent (no bridge); the first network gives the default route", () => {
    const desired = desiredHostOf(withMacvlan({ parent: "eth0", macvlan_mode: "vepa" }, "macvlan"));
    expect(desired.bridges.map((b) => b.bridge)).toEqual(["lnbr-aaaaaaaa"]);
    expect(desired.sandboxes[0]).toMatchObject({
      endpoints: [{ ifName: "eth1", bridge: "lnbr-aaaaaaaa" }],
      macvlanEndpoints: [
        {
          endpointId: "ep_okayokayokayokaz",
          ifName: "eth0",
          parent: "eth0",
          mode: "vepa",
          address: "100.0.0.1/24",
          mac: "02:42:64:00:00:01",
          mtu: 1500,
        },
      ],
      defaultGateway: "100.0.0.254",
    });
    // Published ports stay on bridges.
    expect(desired.portMappings.map((m) => m.targetAddress)).toEqual(["172.30.0.2"]);
  });

  it("defaults to parent eth0 in bridge mode, and routes via the first network's gateway", () => {
    const [sandbox] = desiredHostOf(withMacvlan({}, "bridge")).sandboxes;
    expect(sandbox?.macvlanEndpoints?.map((e) => [e.ifName, e.parent, e.mode])).toEqual([
      ["eth1", "eth0", "bridge"],
    ]);
    expect(sandbox?.defaultGateway).toBe("172.30.0.1");
  });

  it("names the node as the owner of its macvlan's temporary name", () => {
    expect(kernelOwnersOf(withMacvlan({}, "bridge")).get("lnsokayokayok")).toEqual({
      type: "node",
      id: "nod_okayokayokayokay",
    });
  });

  it("fails only the node when the recorded mode is not one Labnet builds", () => {
    const result = dropInvalidTargets(
      desiredHostOf(withMacvlan({ macvlan_mode: "source" }, "bridge")),
      "ln-",
    );
    expect([...result.invalid.keys()]).toEqual(["nod_okayokayokayokay"]);
    expect(result.invalid.get("nod_okayokayokayokay")).toContain("mode");
  });
});

describe("dropInvalidTargets", () => {
  it("fails the one sandbox that must not reach the kernel and keeps the rest", () => {
    const desired = desiredHostOf(snapshot);
    const [good] = desired.sandboxes;
    if (!good) {
      throw new Error("fixture has a sandbox");
    }
    const bad = {
      ...good,
      nodeId: "nod_evil",
      netns: "ln-evil",
      endpoints: [
        {
          ...good.endpoints[0],
          hostVeth: "lnv\nlink del eth0",
          endpointId: "x",
          ifName: "eth0",
          bridge: "lnbr-aaaaaaaa",
          address: "172.30.0.9/24",
          mac: "02:42:ac:1e:00:09",
          mtu: 1500,
        },
      ],
    };
    const result = dropInvalidTargets({ ...desired, sandboxes: [good, bad] }, "ln-");
    expect(result.desired.sandboxes.map((s) => s.nodeId)).toEqual([good.nodeId]);
    expect([...result.invalid.keys()]).toEqual(["nod_evil"]);
    expect(result.invalid.get("nod_evil")).toContain("hostVeth");
  });
});

describe("desiredHostOf with an overlay network", () => {
  const O = "oooooooooooooooo";
  const G = "gggggggggggggggg";
  const overlay: NetworkRow = { ...network(O, "ready"), driver: "overlay", vni: 257, mtu: 1450 };
  const gwbridge: NetworkRow = { ...network(G, "ready"), name: "docker_gwbridge", icc: false };
  const onOverlay: NodeEndpoint = {
    ...endpoint("okayokayokayokay", O, 0, 0, 1),
    address: "172.16.0.1/24",
    mac: "02:42:ac:10:00:01",
    mtu: 1450,
    gateway: "172.16.0.254",
  };
  const given: HostSnapshot = {
    operations: [],
    networks: [gwbridge, overlay],
    ipamConfigs: [config(G, 5), row<IpamConfigRow>({ networkId: `net_${O}`, subnet: "172.16.0.0/24" })],
    nodes: [node("okayokayokayokay", "ready")],
    endpoints: [onOverlay, endpoint("okayokayokayokay", G, 1, 5, 2)],
    portMappings: [],
    overlayPeers: [
      {
        networkId: `net_${O}`,
        endpointId: "ep_remote",
        hostId: "hst_bdc02",
        mac: "02:42:ac:10:00:02",
        address: "172.16.0.2",
        vtep: "10.1.0.12",
      },
    ],
  };

  it("builds the overlay's bridge without an address, its vxlan with the remote entries, and egress via docker_gwbridge", () => {
    const desired = desiredHostOf(given);
    expect(desired.bridges.find((b) => b.networkId === `net_${O}`)).toEqual({
      networkId: `net_${O}`,
      bridge: "lnbr-oooooooo",
      gateways: [],
      subnets: ["172.16.0.0/24"],
      internal: true,
      icc: true,
      isolated: true,
      mtu: 1450,
    });
    expect(desired.overlays).toEqual([
      {
        networkId: `net_${O}`,
        bridge: "lnbr-oooooooo",
        vxlan: "lnvx-257",
        vni: 257,
        underlay: "eth0",
        mtu: 1450,
        vteps: ["10.1.0.12"],
        remotes: [{ mac: "02:42:ac:10:00:02", vtep: "10.1.0.12", address: "172.16.0.2" }],
      },
    ]);
    expect(desired.sandboxes[0]?.endpoints.map((e) => [e.ifName, e.bridge, e.mtu])).toEqual([
      ["eth0", "lnbr-oooooooo", 1450],
      ["eth1", "lnbr-gggggggg", 1500],
    ]);
    // The overlay's gateway is on no machine: the default route is docker_gwbridge's.
    expect(desired.sandboxes[0]?.defaultGateway).toBe("172.30.5.1");
    expect(kernelOwnersOf(given).get("lnvx-257")).toEqual({ type: "network", id: `net_${O}` });
    expect(dropInvalidTargets(desired, "ln-").desired.overlays).toHaveLength(1);
  });

  it("builds nothing of an overlay without an endpoint here", () => {
    const desired = desiredHostOf({ ...given, endpoints: [], nodes: [] });
    expect(desired.overlays).toBeUndefined();
    expect(desired.bridges.map((b) => b.networkId)).toEqual([`net_${G}`]);
  });
});
