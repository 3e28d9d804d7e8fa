/**
 * Issue 3 acceptance: Docker's network model on one host through the HTTP API, proven on
 * the real kernel: network modes (none, host, container:), connect and disconnect,
 * isolation between networks, internal networks, icc, IPAM views, removal rules, and bad
 * input that answers a problem and changes nothing.
 */
import { newId, registerHost, schema } from "@labnet/db";
import { DEFAULT_ADDRESS_POOLS } from "@labnet/ipam";
import { count, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNode, deleteNode } from "../helpers/api-steps";
import {
  defaultRoute,
  eventually,
  expectHostMatchesDatabase,
  labnetLinks,
  labnetRules,
  waitForOperations,
} from "../helpers/kernel-state";
import type { TestLabnet } from "../helpers/labnet";
import { execIn, listNetns, netnsOf, ping, type SimHost } from "../helpers/netns";
import { callPeer, startPeer } from "../helpers/peers";
import { expectProblemChangingNothing, type ProblemCase } from "../helpers/problems";
import { countRows } from "../helpers/row-counts";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";

let labnet: TestLabnet;
let host: SimHost;

beforeAll(async () => {
  ({ labnet, host } = await startSimHostLabnet("nm", 31));
});

afterAll(async () => {
  await labnet?.stop();
  await host?.destroy();
});

interface CreateNodeBody {
  name: string;
  networkMode?: string;
  networks?: { network: string; ipv4Address?: string; aliases?: string[] }[];
}

async function createNetwork(body: Record<string, unknown>) {
  const res = await labnet.request("POST", "/v1/networks", { body, headers: { prefer: "wait=60" } });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; name: string; options: { bridgeName: string } };
}

async function createNode(body: CreateNodeBody) {
  const res = await labnet.waitingClient.POST("/v1/nodes", { body });
  expect(res.error).toBeUndefined();
  expect(res.response.status).toBe(201);
  return { node: res.data, netns: netnsOf(res.data?.sandboxKey) };
}

async function disconnect(network: string, node: string) {
  const res = await labnet.waitingClient.POST("/v1/networks/{networkId}/disconnect", {
    params: { path: { networkId: network } },
    body: { node },
  });
  expect(res.error).toBeUndefined();
  expect(res.response.status).toBe(200);
  return res.data;
}

async function links(netns: string): Promise<string[]> {
  const res = await execIn(netns, ["ip", "-j", "link", "show"]);
  return (JSON.parse(res.stdout || "[]") as { ifname: string }[]).map((l) => l.ifname).sort();
}

describe("network modes", () => {
  it("host: the node shares the host's namespace, has no sandbox or endpoints, and cannot be connected", async () => {
    const before = await listNetns(`${host.hostNetns}-`);
    const { node } = await createNode({ name: "hostnode", networkMode: "host" });
    expect(node).toMatchObject({
      networkMode: "host",
      state: "ready",
      sandboxKey: `/run/netns/${host.hostNetns}`,
    });
    expect(node?.networkSettings.sandboxKey).toBe(`/run/netns/${host.hostNetns}`);
    expect(node?.networkSettings.networks).toEqual({});
    expect(await listNetns(`${host.hostNetns}-`)).toEqual(before);

    const hostView = await labnet.client.GET("/v1/hosts/{hostId}", {
      params: { path: { hostId: host.hostNetns } },
    });
    expect(hostView.data?.netnsPath).toBe(`/run/netns/${host.hostNetns}`);
    expect(hostView.data?.capabilities.bridgeNetfilter).toBe(true);

    const res = await labnet.request("POST", "/v1/networks/bridge/connect", { body: { node: "hostnode" } });
    expect(res.status).toBe(409);
    await deleteNode(labnet, "hostnode");
  });

  it("container: the node shares another node's namespace: same address, a listener on lo reachable", async () => {
    const a = await createNode({ name: "pod-a", networkMode: "bridge" });
    const b = await createNode({ name: "pod-b", networkMode: "container:pod-a" });
    expect(b.node?.networkMode).toBe("container:pod-a");
    expect(b.node?.sandboxKey).toBe(a.node?.sandboxKey);
    expect(b.node?.networkSettings.networks.bridge?.ipAddress).toBe(
      a.node?.networkSettings.networks.bridge?.ipAddress,
    );

    // A listener of A on 127.0.0.1 answers B over lo.
    await startPeer(a.netns, { tcpPort: 7400, host: "127.0.0.1" });
    const reply = await callPeer(b.netns, "127.0.0.1", { protocol: "tcp", port: 7400 });
    expect(reply?.address).toBe("127.0.0.1");
    // Joining B passes on A's namespace (no chains of owners).
    const c = await createNode({ name: "pod-c", networkMode: "container:pod-b" });
    expect(c.node?.sandboxKey).toBe(a.node?.sandboxKey);

    // A cannot go while B and C live in its namespace; they go first.
    const refused = await labnet.request("DELETE", "/v1/nodes/pod-a");
    expect(refused.status).toBe(409);
    await deleteNode(labnet, "pod-c");
    await deleteNode(labnet, "pod-b");
    await deleteNode(labnet, "pod-a");
    await expectHostMatchesDatabase(labnet, host.hostNetns);
  });
});

describe("connect and disconnect", () => {
  it("adds eth1 and eth2 in attach order, moves the default route on disconnect, and never reuses an index", async () => {
    await createNetwork({ name: "front", ipam: { configs: [{ subnet: "10.31.1.0/24" }] } });
    await createNetwork({ name: "back", ipam: { configs: [{ subnet: "10.31.2.0/24" }] } });
    await createNetwork({ name: "side", ipam: { configs: [{ subnet: "10.31.3.0/24" }] } });
    const n = await createNode({ name: "multi", networkMode: "front" });
    const other = await createNode({ name: "backpeer", networkMode: "back" });

    let view = await connectNode(labnet, "back", { node: "multi", aliases: ["api", "api.v1"] });
    expect(view?.networkSettings.networks.back).toMatchObject({
      interface: "eth1",
      ipAddress: "10.31.2.3",
      aliases: ["api", "api.v1"],
    });
    view = await connectNode(labnet, "side", { node: "multi" });
    expect(view?.networkSettings.networks.side?.interface).toBe("eth2");
    expect(await links(n.netns)).toEqual(["eth0", "eth1", "eth2", "lo"]);
    expect(await defaultRoute(n.netns)).toContain("via 10.31.1.1 dev eth0");

    // eth0 carried the default route: it moves to eth1's gateway.
    view = await disconnect("front", "multi");
    expect(Object.keys(view?.networkSettings.networks ?? {}).sort()).toEqual(["back", "side"]);
    expect(await links(n.netns)).toEqual(["eth1", "eth2", "lo"]);
    expect(await defaultRoute(n.netns)).toContain("via 10.31.2.1 dev eth1");
    expect(await ping(n.netns, other.node?.networkSettings.networks.back?.ipAddress ?? "")).toBe(true);

    // Like Docker's per-sandbox counter: a new connect gets eth3, not eth0 again.
    view = await connectNode(labnet, "front", { node: "multi" });
    expect(view?.networkSettings.networks.front).toMatchObject({ interface: "eth3", ipAddress: "10.31.1.2" });
    expect(await links(n.netns)).toEqual(["eth1", "eth2", "eth3", "lo"]);
    expect(await defaultRoute(n.netns)).toContain("via 10.31.2.1 dev eth1");
  });

  it("frees the address on disconnect: the next node gets it", async () => {
    await disconnect("side", "multi");
    const fresh = await createNode({ name: "sidekick", networkMode: "side" });
    expect(fresh.node?.networkSettings.networks.side?.ipAddress).toBe("10.31.3.2");
    const allocations = await labnet.client.GET("/v1/networks/{networkId}/allocations", {
      params: { path: { networkId: "side" } },
    });
    expect(allocations.data?.items.map((a) => [a.address, a.kind, a.nodeName ?? null])).toEqual([
      ["10.31.3.1", "gateway", null],
      ["10.31.3.2", "endpoint", "sidekick"],
    ]);
  });

  it("forced removal of a network in use disconnects its nodes first", async () => {
    const inUse = await labnet.request("DELETE", "/v1/networks/back");
    expect(inUse.status).toBe(409);
    const res = await labnet.waitingClient.DELETE("/v1/networks/{networkId}", {
      params: { path: { networkId: "back" }, query: { force: true } },
    });
    expect(res.response.status).toBe(204);
    const multi = await labnet.client.GET("/v1/nodes/{nodeId}", { params: { path: { nodeId: "multi" } } });
    expect(Object.keys(multi.data?.networkSettings.networks ?? {})).toEqual(["front"]);
    const ns = netnsOf(multi.data?.sandboxKey);
    expect(await links(ns)).toEqual(["eth3", "lo"]);
    expect(await defaultRoute(ns)).toContain("via 10.31.1.1 dev eth3");
    const peer = await labnet.client.GET("/v1/nodes/{nodeId}", { params: { path: { nodeId: "backpeer" } } });
    expect(peer.data?.networkSettings.networks).toEqual({});
    expect(await links(netnsOf(peer.data?.sandboxKey))).toEqual(["lo"]);
    await expectHostMatchesDatabase(labnet, host.hostNetns);
    for (const node of ["multi", "backpeer", "sidekick"]) {
      await deleteNode(labnet, node);
    }
  });
});

describe("concurrent connects", () => {
  it("give one node distinct interfaces, and the same network only once", async () => {
    const names = ["c1", "c2", "c3", "c4", "c5", "c6"];
    for (const [i, name] of names.entries()) {
      await createNetwork({
        name,
        labels: { batch: "c" },
        ipam: { configs: [{ subnet: `10.36.${i}.0/24` }] },
      });
    }
    const hub = await createNode({ name: "hub", networkMode: "none" });
    const results = await Promise.all([
      ...names.map((name) =>
        labnet.request("POST", `/v1/networks/${name}/connect`, { body: { node: "hub" } }),
      ),
      ...[1, 2, 3].map(() => labnet.request("POST", "/v1/networks/c1/connect", { body: { node: "hub" } })),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([...Array(6).fill(202), 409, 409, 409]);
    const ops = await Promise.all(
      results
        .filter((r) => r.status === 202)
        .map(async (r) => (await r.json()) as { operation?: { id: string } }),
    );
    await waitForOperations(
      labnet,
      ops.map((o) => o.operation?.id ?? ""),
    );
    const view = await labnet.client.GET("/v1/nodes/{nodeId}", { params: { path: { nodeId: "hub" } } });
    const interfaces = Object.values(view.data?.networkSettings.networks ?? {}).map((e) => e.interface);
    expect(interfaces.sort()).toEqual(["eth0", "eth1", "eth2", "eth3", "eth4", "eth5"]);
    expect(await links(hub.netns)).toEqual(["eth0", "eth1", "eth2", "eth3", "eth4", "eth5", "lo"]);
    await deleteNode(labnet, "hub");
    // Only the labelled ones: front and side are unused too, and stay.
    const pruned = await labnet.waitingClient.POST("/v1/networks/prune", {
      params: { query: { label: ["batch=c"] } },
    });
    expect(pruned.response.status).toBe(200);
    expect(pruned.data?.items.map((n) => n.name).sort()).toEqual(names);
  });
});

describe("isolation and egress", () => {
  it("drops traffic between two default networks, both ways", async () => {
    await createNetwork({ name: "iso-a" });
    await createNetwork({ name: "iso-b" });
    const a = await createNode({ name: "iso-a1", networkMode: "iso-a" });
    const b = await createNode({ name: "iso-b1", networkMode: "iso-b" });
    const a2 = await createNode({ name: "iso-a2", networkMode: "iso-a" });
    const addrA = a.node?.networkSettings.networks["iso-a"]?.ipAddress ?? "";
    const addrB = b.node?.networkSettings.networks["iso-b"]?.ipAddress ?? "";
    expect(await ping(a.netns, addrB)).toBe(false);
    expect(await ping(b.netns, addrA)).toBe(false);
    // Within a network, and out to the world, traffic flows.
    expect(await ping(a2.netns, addrA)).toBe(true);
    await startPeer(host.outsideNetns ?? "", { tcpPort: 7401 });
    expect((await callPeer(b.netns, host.outsideAddress ?? "", { port: 7401 }))?.address).toBe(
      host.uplinkAddress,
    );
  });

  it("routes between two networks once both have isolation off, and not while one keeps it", async () => {
    const a = await labnet.client.GET("/v1/nodes/{nodeId}", { params: { path: { nodeId: "iso-a1" } } });
    const b = await labnet.client.GET("/v1/nodes/{nodeId}", { params: { path: { nodeId: "iso-b1" } } });
    const addrB = b.data?.networkSettings.networks["iso-b"]?.ipAddress ?? "";
    const open = (networkId: string, isolated: boolean) =>
      labnet.waitingClient.PATCH("/v1/networks/{networkId}", {
        params: { path: { networkId } },
        body: { options: { isolated } },
      });
    expect((await open("iso-a", false)).response.status).toBe(200);
    expect(await ping(netnsOf(a.data?.sandboxKey), addrB)).toBe(false);
    expect((await open("iso-b", false)).response.status).toBe(200);
    expect(await ping(netnsOf(a.data?.sandboxKey), addrB)).toBe(true);
  });

  it("an internal network has no egress, no MASQUERADE and no default route", async () => {
    const net = await createNetwork({
      name: "vault",
      internal: true,
      ipam: { configs: [{ subnet: "10.31.9.0/24" }] },
    });
    const one = await createNode({ name: "vault1", networkMode: "vault" });
    const two = await createNode({ name: "vault2", networkMode: "vault" });
    expect(one.node?.networkSettings.networks.vault).toMatchObject({ ipAddress: "10.31.9.2", gateway: "" });
    expect(await defaultRoute(one.netns)).toBe("");
    const rules = await labnetRules(host.hostNetns);
    expect(rules.filter((r) => r.includes("10.31.9.0/24"))).toEqual([]);
    expect(rules).toContain(`-A LABNET-FORWARD -i ${net.options.bridgeName} -j DROP`);
    expect(
      await callPeer(one.netns, host.outsideAddress ?? "", { port: 7401, timeoutMs: 1500 }),
    ).toBeUndefined();
    expect(await ping(one.netns, host.outsideAddress ?? "")).toBe(false);
    // Nodes of the internal network still talk to each other.
    expect(await ping(two.netns, "10.31.9.2")).toBe(true);
  });

  it("icc off: nodes of one network cannot talk to each other, but reach the world", async () => {
    const net = await createNetwork({
      name: "no-icc",
      ipam: { configs: [{ subnet: "10.31.10.0/24" }] },
      options: { "com.docker.network.bridge.enable_icc": "false" },
    });
    const view = await labnet.client.GET("/v1/networks/{networkId}", {
      params: { path: { networkId: "no-icc" } },
    });
    expect(view.data?.options).toMatchObject({ icc: false, isolated: true });
    // In the bridge's own chain, after its replies and published-port accepts.
    expect(await labnetRules(host.hostNetns)).toContain(
      `-A LABNET-FWD-${net.options.bridgeName} -i ${net.options.bridgeName} -o ${net.options.bridgeName} -j DROP`,
    );
    const one = await createNode({ name: "quiet1", networkMode: "no-icc" });
    const two = await createNode({ name: "quiet2", networkMode: "no-icc" });
    expect(await ping(one.netns, "10.31.10.3")).toBe(false);
    expect(await ping(two.netns, "10.31.10.2")).toBe(false);
    expect((await callPeer(one.netns, host.outsideAddress ?? "", { port: 7401 }))?.address).toBe(
      host.uplinkAddress,
    );

    // Turned on again, they do.
    const on = await labnet.waitingClient.PATCH("/v1/networks/{networkId}", {
      params: { path: { networkId: "no-icc" } },
      body: { options: { icc: true } },
    });
    expect(on.response.status).toBe(200);
    expect(await ping(one.netns, "10.31.10.3")).toBe(true);
  });
});

describe("IPAM", () => {
  it("several configs, an ip range, a gateway and aux addresses: allocation order and utilisation", async () => {
    await createNetwork({
      name: "lab",
      ipam: {
        configs: [
          { subnet: "10.32.0.0/29", gateway: "10.32.0.6", auxAddresses: { router: "10.32.0.1" } },
          { subnet: "10.32.1.0/24", ipRange: "10.32.1.128/25" },
        ],
      },
    });
    const names = ["lab1", "lab2", "lab3", "lab4", "lab5"];
    const addresses: string[] = [];
    for (const name of names) {
      const { node } = await createNode({ name, networkMode: "lab" });
      addresses.push(node?.networkSettings.networks.lab?.ipAddress ?? "");
    }
    // The /29 first (.1 aux, .6 gateway: .2-.5), then the second config's range.
    // The range's own network address is not handed out (see @labnet/ipam dynamicRange).
    expect(addresses).toEqual(["10.32.0.2", "10.32.0.3", "10.32.0.4", "10.32.0.5", "10.32.1.129"]);
    const lab3 = await labnet.client.GET("/v1/nodes/{nodeId}", { params: { path: { nodeId: "lab3" } } });
    expect(lab3.data?.networkSettings.networks.lab).toMatchObject({ gateway: "10.32.0.6", ipPrefixLen: 29 });
    const ns5 = netnsOf(
      (await labnet.client.GET("/v1/nodes/{nodeId}", { params: { path: { nodeId: "lab5" } } })).data
        ?.sandboxKey,
    );
    expect(await ping(ns5, "10.32.1.1")).toBe(true);

    // A released address is handed out again, lowest first.
    await deleteNode(labnet, "lab2");
    const again = await createNode({ name: "lab6", networkMode: "lab" });
    expect(again.node?.networkSettings.networks.lab?.ipAddress).toBe("10.32.0.3");
    // A static address outside the ip range is fine.
    const fixed = await createNode({
      name: "lab7",
      networks: [{ network: "lab", ipv4Address: "10.32.1.7" }],
    });
    expect(fixed.node?.networkSettings.networks.lab?.ipAddress).toBe("10.32.1.7");

    const res = await labnet.client.GET("/v1/networks/{networkId}/allocations", {
      params: { path: { networkId: "lab" } },
    });
    expect(res.response.status).toBe(200);
    expect(res.data?.configs).toEqual([
      {
        subnet: "10.32.0.0/29",
        gateway: "10.32.0.6",
        size: 6,
        used: 6,
        free: 0,
        dynamic: { first: "10.32.0.1", last: "10.32.0.6", size: 6, used: 6, free: 0 },
      },
      {
        subnet: "10.32.1.0/24",
        gateway: "10.32.1.1",
        ipRange: "10.32.1.128/25",
        size: 254,
        used: 3,
        free: 251,
        dynamic: { first: "10.32.1.129", last: "10.32.1.254", size: 126, used: 1, free: 125 },
      },
    ]);
    expect(res.data?.items.map((a) => [a.address, a.kind, a.auxName ?? a.nodeName ?? ""])).toEqual([
      ["10.32.0.1", "aux", "router"],
      ["10.32.0.2", "endpoint", "lab1"],
      ["10.32.0.3", "endpoint", "lab6"],
      ["10.32.0.4", "endpoint", "lab3"],
      ["10.32.0.5", "endpoint", "lab4"],
      ["10.32.0.6", "gateway", ""],
      ["10.32.1.1", "gateway", ""],
      ["10.32.1.7", "endpoint", "lab7"],
      ["10.32.1.129", "endpoint", "lab5"],
    ]);
  });

  it("shows the default pools and what each host uses of them", async () => {
    const res = await labnet.client.GET("/v1/ipam/pools", { params: { query: { host: host.hostNetns } } });
    expect(res.response.status).toBe(200);
    const items = res.data?.items ?? [];
    expect(items.map((p) => [p.base, p.size])).toEqual(DEFAULT_ADDRESS_POOLS.map((p) => [p.base, p.size]));
    const usage = (base: string) => items.find((p) => p.base === base)?.hosts[0];
    expect(usage("172.17.0.0/16")).toMatchObject({
      hostName: host.hostNetns,
      used: 1,
      free: 0,
      networks: [{ name: "bridge", subnet: "172.17.0.0/16" }],
    });
    // iso-a and iso-b took the next two pool subnets.
    expect(usage("172.18.0.0/16")?.networks.map((n) => n.name)).toEqual(["iso-a"]);
    expect(usage("172.19.0.0/16")?.networks.map((n) => n.name)).toEqual(["iso-b"]);
    expect(usage("172.20.0.0/16")).toMatchObject({ used: 0, free: 1, networks: [] });
    expect(items.find((p) => p.base === "192.168.0.0/16")).toMatchObject({ capacity: 16 });
  });
});

async function rowCounts() {
  const counts = await countRows(labnet.db, {
    networks: schema.networks,
    nodes: schema.nodes,
    endpoints: schema.endpoints,
    allocations: schema.allocations,
    operations: schema.operations,
  });
  const [icc] = await labnet.db
    .select({ n: count() })
    .from(schema.networks)
    .where(eq(schema.networks.icc, false));
  counts.iccOff = icc?.n;
  const [next] = await labnet.db
    .select({ n: sql<number>`sum(${schema.nodes.nextIfIndex})::int` })
    .from(schema.nodes);
  counts.ifCounters = next?.n;
  return counts;
}

describe("bad input answers a problem naming the field and changes nothing", () => {
  let otherHostId = "";

  beforeAll(async () => {
    await createNetwork({
      name: "fixed",
      attachable: false,
      ipam: { configs: [{ subnet: "10.33.0.0/24" }] },
    });
    await createNode({ name: "steady", networks: [{ network: "fixed" }] });
    await createNode({ name: "spare", networkMode: "bridge" });
    await createNode({ name: "loner", networkMode: "host" });
    await createNode({ name: "follower", networkMode: "container:steady" });
    await createNetwork({ name: "open", ipam: { configs: [{ subnet: "10.33.1.0/24" }] } });
    await connectNode(labnet, "open", { node: "steady" });
    // A second host that is never online, without br_netfilter (and without a predefined
    // bridge, so that `bridge` stays unambiguous): the limits across hosts.
    const other = await registerHost(labnet.db, {
      id: newId("host"),
      name: "elsewhere",
      netnsPrefix: "lx-",
      underlayAddress: null,
      capabilities: {
        linkTypes: ["bridge", "veth"],
        drivers: ["bridge"],
        iptables: true,
        bridgeNetfilter: false,
      },
    });
    otherHostId = other.id;
    await labnet.db
      .update(schema.hosts)
      .set({ lastHeartbeatAt: new Date(0) })
      .where(eq(schema.hosts.id, other.id));
    await createNetworkOn("elsewhere", "otherside");
  });

  async function createNetworkOn(hostName: string, name: string) {
    const res = await labnet.request("POST", "/v1/networks", {
      body: { name, host: hostName, ipam: { configs: [{ subnet: "10.35.0.0/24" }] } },
    });
    expect(res.status).toBe(202);
  }

  afterAll(async () => {
    // The second host never ran: its records go directly.
    await labnet.db.delete(schema.operations).where(eq(schema.operations.hostId, otherHostId));
    await labnet.db.delete(schema.networks).where(eq(schema.networks.hostId, otherHostId));
    await labnet.db.delete(schema.hosts).where(eq(schema.hosts.id, otherHostId));
  });

  const cases: (ProblemCase & { name: string; code: string })[] = [
    {
      name: "removing the predefined bridge",
      method: "DELETE",
      path: "/v1/networks/bridge",
      status: 403,
      code: "FORBIDDEN",
      location: "path.networkId",
    },
    {
      name: "removing the predefined host network",
      method: "DELETE",
      path: "/v1/networks/host",
      status: 403,
      code: "FORBIDDEN",
      location: "path.networkId",
    },
    {
      name: "removing a network in use",
      method: "DELETE",
      path: "/v1/networks/fixed",
      status: 409,
      code: "NETWORK_IN_USE",
      location: "path.networkId",
    },
    {
      name: "removing a node whose namespace is shared",
      method: "DELETE",
      path: "/v1/nodes/steady",
      status: 409,
      code: "CONFLICT",
      location: "path.nodeId",
    },
    {
      name: "connecting twice",
      method: "POST",
      path: "/v1/networks/open/connect",
      body: { node: "steady" },
      status: 409,
      code: "CONFLICT",
      location: "body.node",
    },
    {
      name: "connecting to a network that is not attachable",
      method: "POST",
      path: "/v1/networks/fixed/connect",
      body: { node: "spare" },
      status: 409,
      code: "CONFLICT",
      location: "path.networkId",
    },
    {
      name: "a static address in use",
      method: "POST",
      path: "/v1/networks/open/connect",
      body: { node: "spare", ipv4Address: "10.33.1.2" },
      status: 409,
      code: "ADDRESS_IN_USE",
      location: "body.ipv4Address",
    },
    {
      name: "the gateway as static address",
      method: "POST",
      path: "/v1/networks/bridge/connect",
      body: { node: "steady", ipv4Address: "172.17.0.1" },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.ipv4Address",
    },
    {
      name: "a static address outside the subnets",
      method: "POST",
      path: "/v1/networks/bridge/connect",
      body: { node: "steady", ipv4Address: "10.99.0.1" },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.ipv4Address",
    },
    {
      name: "an alias that is not a DNS name",
      method: "POST",
      path: "/v1/networks/bridge/connect",
      body: { node: "steady", aliases: ["ok", "-bad"] },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.aliases[1]",
    },
    {
      name: "an alias with an underscore",
      method: "POST",
      path: "/v1/networks/bridge/connect",
      body: { node: "steady", aliases: ["web_db"] },
      status: 400,
      code: "VALIDATION_FAILED",
      location: "body.aliases[0]",
    },
    {
      name: "an alias given twice",
      method: "POST",
      path: "/v1/nodes",
      body: { name: "twice", networks: [{ network: "open", aliases: ["db", "DB"] }] },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.networks[0].aliases[1]",
    },
    {
      name: "a label too long in an alias",
      method: "POST",
      path: "/v1/nodes",
      body: { name: "longalias", networks: [{ network: "open", aliases: [`${"a".repeat(64)}.lab`] }] },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.networks[0].aliases[0]",
    },
    {
      name: "connecting a node in mode host",
      method: "POST",
      path: "/v1/networks/open/connect",
      body: { node: "loner" },
      status: 409,
      code: "CONFLICT",
      location: "body.node",
    },
    {
      name: "connecting a node in mode container:",
      method: "POST",
      path: "/v1/networks/open/connect",
      body: { node: "follower" },
      status: 409,
      code: "CONFLICT",
      location: "body.node",
    },
    {
      name: "disconnecting a node in mode container:",
      method: "POST",
      path: "/v1/networks/fixed/disconnect",
      body: { node: "follower" },
      status: 409,
      code: "CONFLICT",
      location: "body.node",
    },
    {
      name: "disconnecting a node that is not on the network",
      method: "POST",
      path: "/v1/networks/bridge/disconnect",
      body: { node: "steady" },
      status: 409,
      code: "CONFLICT",
      location: "body.node",
    },
    {
      name: "mode host with networks",
      method: "POST",
      path: "/v1/nodes",
      body: { name: "hostnet", networkMode: "host", networks: [{ network: "open" }] },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.networks",
    },
    {
      name: "mode container: with networks",
      method: "POST",
      path: "/v1/nodes",
      body: { name: "shared", networkMode: "container:steady", networks: [{ network: "open" }] },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.networks",
    },
    {
      name: "mode container: of an unknown node",
      method: "POST",
      path: "/v1/nodes",
      body: { name: "ghostly", networkMode: "container:ghost" },
      status: 404,
      code: "NOT_FOUND",
      location: "body.networkMode",
    },
    {
      name: "connecting an unknown node",
      method: "POST",
      path: "/v1/networks/open/connect",
      body: { node: "ghost" },
      status: 404,
      code: "NOT_FOUND",
      location: "body.node",
    },
    {
      name: "connecting to a network of another host",
      method: "POST",
      path: "/v1/networks/otherside/connect",
      body: { node: "steady" },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.node",
    },
    {
      name: "a hostname that is not a DNS name",
      method: "POST",
      path: "/v1/nodes",
      body: { name: "badhost", hostname: "-web" },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.hostname",
    },
    {
      name: "icc off on a host without br_netfilter",
      method: "POST",
      path: "/v1/networks",
      body: { name: "hush", host: "elsewhere", options: { icc: false } },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.options.icc",
    },
    {
      name: "Docker's icc option contradicting icc",
      method: "POST",
      path: "/v1/networks",
      body: { name: "mixed", options: { icc: true, "com.docker.network.bridge.enable_icc": "false" } },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.options.com.docker.network.bridge.enable_icc",
    },
    {
      name: "an update with no option",
      method: "PATCH",
      path: "/v1/networks/open",
      body: { options: {} },
      status: 400,
      code: "VALIDATION_FAILED",
      location: "body.options",
    },
    {
      name: "an update with an unknown option",
      method: "PATCH",
      path: "/v1/networks/open",
      body: { options: { mtu: 1400 } },
      status: 400,
      code: "VALIDATION_FAILED",
      location: "body.options.mtu",
    },
  ];

  it.each(cases)("$name → $status $code at $location", (problemCase) =>
    expectProblemChangingNothing(labnet, rowCounts, problemCase),
  );
});

describe("teardown", () => {
  it("a network removed right after its nodes (no wait between) goes once they have; a node not being removed still holds it", async () => {
    const quick = await createNetwork({ name: "quick", ipam: { configs: [{ subnet: "10.35.0.0/24" }] } });
    const nodes = [
      await createNode({ name: "quick-a", networkMode: "quick" }),
      await createNode({ name: "quick-b", networkMode: "quick" }),
    ];
    const first = await labnet.client.DELETE("/v1/nodes/{nodeId}", {
      params: { path: { nodeId: "quick-a" } },
    });
    expect(first.response.status).toBe(202);
    // quick-b is not being removed: the network is in use.
    const inUse = await labnet.request("DELETE", "/v1/networks/quick");
    expect(inUse.status).toBe(409);
    const second = await labnet.client.DELETE("/v1/nodes/{nodeId}", {
      params: { path: { nodeId: "quick-b" } },
    });
    expect(second.response.status).toBe(202);
    const removal = await labnet.request("DELETE", "/v1/networks/quick");
    expect(removal.status, await removal.clone().text()).toBe(202);
    const opOf = (headers: Headers) => headers.get("operation-location")?.split("/").at(-1) ?? "";
    await waitForOperations(labnet, [
      opOf(first.response.headers),
      opOf(second.response.headers),
      opOf(removal.headers),
    ]);
    const gone = await labnet.client.GET("/v1/networks/{networkId}", {
      params: { path: { networkId: quick.id } },
    });
    expect(gone.response.status).toBe(404);
    for (const { netns } of nodes) {
      expect(await listNetns(netns)).toEqual([]);
    }
    expect(await labnetLinks(host.hostNetns)).not.toContain(quick.options.bridgeName);
    await expectHostMatchesDatabase(labnet, host.hostNetns);
  });

  it("prune keeps networks in use; removing every node and pruning leaves only the default bridge", async () => {
    await createNetwork({ name: "unused", ipam: { configs: [{ subnet: "10.34.0.0/24" }] } });
    const first = await labnet.waitingClient.POST("/v1/networks/prune");
    expect(first.response.status).toBe(200);
    // front and side lost their last nodes earlier; the rest are in use.
    expect(first.data?.items.map((n) => n.name)).toEqual(["front", "side", "unused"]);

    // Nodes sharing a namespace go before its owner (marked for removal first is enough),
    // the rest all at once.
    const nodes = (await labnet.client.GET("/v1/nodes")).data?.items ?? [];
    const sharers = nodes.filter((n) => n.networkMode.startsWith("container:"));
    const others = nodes.filter((n) => !n.networkMode.startsWith("container:"));
    const deletes = [];
    for (const n of sharers) {
      deletes.push(await labnet.client.DELETE("/v1/nodes/{nodeId}", { params: { path: { nodeId: n.id } } }));
    }
    deletes.push(
      ...(await Promise.all(
        others.map((n) => labnet.client.DELETE("/v1/nodes/{nodeId}", { params: { path: { nodeId: n.id } } })),
      )),
    );
    expect(deletes.map((d) => d.response.status)).toEqual(Array(nodes.length).fill(202));
    await waitForOperations(
      labnet,
      deletes.map((d) => d.response.headers.get("operation-location")?.split("/").at(-1) ?? ""),
    );
    const pruned = await labnet.waitingClient.POST("/v1/networks/prune");
    expect(pruned.response.status).toBe(200);
    expect(pruned.data?.items.map((n) => n.name).sort()).toEqual(
      ["fixed", "iso-a", "iso-b", "lab", "no-icc", "open", "vault"].sort(),
    );

    const left = await labnet.client.GET("/v1/networks");
    expect(left.data?.items.map((n) => n.name)).toEqual(["bridge"]);
    const bridge = left.data?.items[0]?.options.bridgeName ?? "";
    await expectHostMatchesDatabase(labnet, host.hostNetns);
    expect(await labnetLinks(host.hostNetns)).toEqual([bridge]);
    await eventually(
      async () => ((await listNetns(`${host.hostNetns}-`)).length === 0 ? true : undefined),
      10_000,
      "sandboxes to go",
    );
    const rules = await labnetRules(host.hostNetns);
    expect(rules.filter((r) => !r.includes(bridge) && r !== "-A LABNET-FORWARD -j LABNET-ISOLATION")).toEqual(
      [],
    );
  });
});
