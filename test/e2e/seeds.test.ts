/**
 * Issue 3 acceptance: what the course material does by hand on one host (shared/seeds 001
 * exercises 1 and 2, minus name resolution, and the seed 003 experiment), provisioned
 * through the HTTP API only and proven on the real kernel with real packets.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNode } from "../helpers/api-steps";
import { defaultRoute, expectHostMatchesDatabase, labnetLinks, labnetRules } from "../helpers/kernel-state";
import type { TestLabnet } from "../helpers/labnet";
import { execIn, listNetns, netnsOf, ping, type SimHost } from "../helpers/netns";
import { callPeer, startPeer } from "../helpers/peers";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";

let labnet: TestLabnet;
let host: SimHost;

beforeAll(async () => {
  ({ labnet, host } = await startSimHostLabnet("sd", 30));
});

afterAll(async () => {
  await labnet?.stop();
  await host?.destroy();
});

/** IPv4 addresses per interface of a namespace, as the kernel has them. */
async function addressesIn(netns: string): Promise<Record<string, string[]>> {
  const res = await execIn(netns, ["ip", "-j", "-4", "addr", "show"]);
  expect(res.code).toBe(0);
  const links = JSON.parse(res.stdout) as {
    ifname: string;
    addr_info: { local: string; prefixlen: number }[];
  }[];
  return Object.fromEntries(
    links
      .filter((l) => l.ifname !== "lo")
      .map((l) => [l.ifname, l.addr_info.map((a) => `${a.local}/${a.prefixlen}`)]),
  );
}

async function createNode(body: {
  name: string;
  networkMode?: string;
  networks?: { network: string; ipv4Address?: string }[];
}) {
  const res = await labnet.waitingClient.POST("/v1/nodes", { body });
  expect(res.error).toBeUndefined();
  expect(res.response.status).toBe(201);
  expect(res.data?.state).toBe("ready");
  return { node: res.data, netns: netnsOf(res.data?.sandboxKey) };
}

describe("seed 001 exercise 2: networks web and app", () => {
  let web: Awaited<ReturnType<typeof createNode>>;
  let app: Awaited<ReturnType<typeof createNode>>;

  it("creates web and app from the default pools, a node on each", async () => {
    for (const [name, subnet] of [
      ["web", "172.18.0.0/16"],
      ["app", "172.19.0.0/16"],
    ] as const) {
      const res = await labnet.waitingClient.POST("/v1/networks", { body: { name } });
      expect(res.response.status).toBe(201);
      expect(res.data?.ipam.configs).toEqual([{ subnet, gateway: subnet.replace("0/16", "1") }]);
    }
    web = await createNode({ name: "web_container", networkMode: "web" });
    app = await createNode({ name: "app_container", networkMode: "app" });
    expect(web.node?.networkSettings.networks.web?.ipAddress).toBe("172.18.0.2");
    expect(app.node?.networkSettings.networks.app?.ipAddress).toBe("172.19.0.2");
    // Two networks are isolated from each other: by IP, nothing crosses.
    expect(await ping(web.netns, "172.19.0.2")).toBe(false);
    expect(await ping(app.netns, "172.18.0.2")).toBe(false);
  });

  it("connects web_container to app as eth1, and app_container pings it there", async () => {
    const node = await connectNode(labnet, "app", { node: "web_container" });
    // The seed's `docker inspect web_container` after `docker network connect app web_container`.
    expect(node?.networkSettings.networks).toMatchObject({
      app: {
        interface: "eth1",
        gateway: "172.19.0.1",
        ipAddress: "172.19.0.3",
        ipPrefixLen: 16,
        macAddress: "02:42:ac:13:00:03",
      },
      web: {
        interface: "eth0",
        gateway: "172.18.0.1",
        ipAddress: "172.18.0.2",
        ipPrefixLen: 16,
        macAddress: "02:42:ac:12:00:02",
      },
    });
    expect(node?.networkSettings.networks.app?.endpointId).toMatch(/^ep_/);

    // The kernel: eth0 and eth1 with the right addresses, the default route still via web.
    expect(await addressesIn(web.netns)).toEqual({ eth0: ["172.18.0.2/16"], eth1: ["172.19.0.3/16"] });
    const eth1 = await execIn(web.netns, ["ip", "-o", "link", "show", "dev", "eth1"]);
    expect(eth1.stdout).toContain("02:42:ac:13:00:03");
    expect(await defaultRoute(web.netns)).toContain("via 172.18.0.1 dev eth0");

    expect(await ping(app.netns, "172.19.0.3")).toBe(true);
    expect(await ping(web.netns, "172.19.0.2")).toBe(true);
  });

  it("connects app_container to web, and web's inspect lists both with their addresses and MACs", async () => {
    const node = await connectNode(labnet, "web", { node: "app_container" });
    expect(node?.networkSettings.networks.web).toMatchObject({ interface: "eth1", ipAddress: "172.18.0.3" });

    const res = await labnet.client.GET("/v1/networks/{networkId}", {
      params: { path: { networkId: "web" } },
    });
    expect(res.data).toMatchObject({ name: "web", driver: "bridge", scope: "local", internal: false });
    const containers = Object.entries(res.data?.containers ?? {}).map(([id, c]) => ({ id, ...c }));
    expect(containers.map((c) => [c.name, c.ipv4Address, c.macAddress]).sort()).toEqual([
      ["app_container", "172.18.0.3/16", "02:42:ac:12:00:03"],
      ["web_container", "172.18.0.2/16", "02:42:ac:12:00:02"],
    ]);
    for (const c of containers) {
      expect(c.id).toMatch(/^nod_/);
      expect(c.endpointId).toMatch(/^ep_/);
    }

    expect(await addressesIn(app.netns)).toEqual({ eth0: ["172.19.0.2/16"], eth1: ["172.18.0.3/16"] });
    expect(await ping(web.netns, "172.18.0.3")).toBe(true);
  });
});

describe("seed 001 exercise 1: a node's network built step by step", () => {
  it("a node in mode none, connected to the default bridge as 172.17.42.1, reaches a node on the bridge", async () => {
    const peer = await createNode({ name: "busybox1", networkMode: "bridge" });
    const peerAddress = peer.node?.networkSettings.networks.bridge?.ipAddress ?? "";
    expect(peerAddress).toMatch(/^172\.17\.0\.\d+$/);

    // docker run --net=none: only lo.
    const bare = await createNode({ name: "busybox0", networkMode: "none" });
    expect(bare.node?.networkSettings.networks).toEqual({});
    expect(await addressesIn(bare.netns)).toEqual({});

    // The veth pair, eth0, 172.17.42.1/16 and the default route via docker0's address.
    const node = await connectNode(labnet, "bridge", { node: "busybox0", ipv4Address: "172.17.42.1" });
    expect(node?.networkMode).toBe("none");
    expect(node?.networkSettings.networks.bridge).toMatchObject({
      interface: "eth0",
      ipAddress: "172.17.42.1",
      ipPrefixLen: 16,
      gateway: "172.17.0.1",
      macAddress: "02:42:ac:11:2a:01",
    });
    expect(await addressesIn(bare.netns)).toEqual({ eth0: ["172.17.42.1/16"] });
    expect(await defaultRoute(bare.netns)).toContain("default via 172.17.0.1 dev eth0");
    expect(await ping(bare.netns, peerAddress)).toBe(true);
    expect(await ping(peer.netns, "172.17.42.1")).toBe(true);
  });
});

describe("seed 003: bridge mydocker0 with ns1 and ns2", () => {
  let ns1: Awaited<ReturnType<typeof createNode>>;
  let ns2: Awaited<ReturnType<typeof createNode>>;
  let bridgeName = "";

  it("ns1 (.2) and ns2 (.3) on mydocker0 172.16.0.0/16 ping each other and the gateway", async () => {
    const net = await labnet.waitingClient.POST("/v1/networks", {
      body: {
        name: "mydocker0",
        ipam: { configs: [{ subnet: "172.16.0.0/16", gateway: "172.16.0.1" }] },
        options: { isolated: false },
      },
    });
    expect(net.response.status).toBe(201);
    expect(net.data?.options).toMatchObject({ isolated: false, icc: true });
    bridgeName = net.data?.options.bridgeName ?? "";
    ns1 = await createNode({ name: "ns1", networks: [{ network: "mydocker0", ipv4Address: "172.16.0.2" }] });
    ns2 = await createNode({ name: "ns2", networks: [{ network: "mydocker0", ipv4Address: "172.16.0.3" }] });

    expect(await addressesIn(ns1.netns)).toEqual({ eth0: ["172.16.0.2/16"] });
    expect(await defaultRoute(ns1.netns)).toContain("default via 172.16.0.1 dev eth0");
    const bridgeAddr = await execIn(host.hostNetns, ["ip", "-o", "-4", "addr", "show", "dev", bridgeName]);
    expect(bridgeAddr.stdout).toContain("172.16.0.1/16");

    expect(await ping(ns1.netns, "172.16.0.1")).toBe(true);
    expect(await ping(ns1.netns, "172.16.0.3")).toBe(true);
    expect(await ping(ns2.netns, "172.16.0.2")).toBe(true);
  });

  it("ns1 reaches the outside, MASQUERADEd to the host's address", async () => {
    const rules = await labnetRules(host.hostNetns);
    expect(rules).toContain(`-A LABNET-POSTROUTING -s 172.16.0.0/16 ! -o ${bridgeName} -j MASQUERADE`);
    await startPeer(host.outsideNetns ?? "", { tcpPort: 7300 });
    const reply = await callPeer(ns1.netns, host.outsideAddress ?? "", { protocol: "tcp", port: 7300 });
    expect(reply?.address).toBe(host.uplinkAddress);
  });

  it("ns1 reaches a node on the default bridge through the gateway once both networks have isolation off", async () => {
    const target = await createNode({ name: "docker1", networkMode: "bridge" });
    const address = target.node?.networkSettings.networks.bridge?.ipAddress ?? "";

    // The default bridge is isolated like any other: nothing crosses.
    expect(await ping(ns1.netns, address)).toBe(false);

    const opened = await labnet.waitingClient.PATCH("/v1/networks/{networkId}", {
      params: { path: { networkId: "bridge" } },
      body: { options: { isolated: false } },
    });
    expect(opened.response.status).toBe(200);
    expect(opened.data?.options.isolated).toBe(false);
    try {
      expect(await ping(ns1.netns, address)).toBe(true);
      // traceroute -n: the first hop is mydocker0's address, the second the node.
      const trace = await execIn(ns1.netns, ["traceroute", "-n", "-q", "1", "-w", "2", "-m", "4", address], {
        timeoutMs: 20_000,
      });
      expect(trace.code).toBe(0);
      const hops = trace.stdout
        .split("\n")
        .map((line) => /^\s*(\d+)\s+(\S+)/.exec(line))
        .flatMap((m) => (m ? [[Number(m[1]), m[2]]] : []));
      expect(hops).toEqual([
        [1, "172.16.0.1"],
        [2, address],
      ]);
    } finally {
      const closed = await labnet.waitingClient.PATCH("/v1/networks/{networkId}", {
        params: { path: { networkId: "bridge" } },
        body: { options: { isolated: true } },
      });
      expect(closed.response.status).toBe(200);
    }
    expect(await ping(ns1.netns, address)).toBe(false);
  });
});

describe("teardown", () => {
  it("removing every node and pruning the networks leaves only the default bridge", async () => {
    const nodes = await labnet.client.GET("/v1/nodes");
    for (const node of nodes.data?.items ?? []) {
      const res = await labnet.waitingClient.DELETE("/v1/nodes/{nodeId}", {
        params: { path: { nodeId: node.id } },
      });
      expect(res.response.status).toBe(204);
    }
    const pruned = await labnet.waitingClient.POST("/v1/networks/prune");
    expect(pruned.response.status).toBe(200);
    expect(pruned.data?.items.map((n) => n.name).sort()).toEqual(["app", "mydocker0", "web"]);

    const left = await labnet.client.GET("/v1/networks");
    expect(left.data?.items.map((n) => n.name)).toEqual(["bridge"]);
    const bridge = left.data?.items[0]?.options.bridgeName ?? "";
    await expectHostMatchesDatabase(labnet, host.hostNetns);
    expect(await labnetLinks(host.hostNetns)).toEqual([bridge]);
    expect(await listNetns(`${host.hostNetns}-`)).toEqual([]);
    const rules = await labnetRules(host.hostNetns);
    expect(rules.filter((r) => !r.includes(bridge) && r !== "-A LABNET-FORWARD -j LABNET-ISOLATION")).toEqual(
      [],
    );
  });
});
