/**
 * Issue 8 deliverable 5, the overlay driver across the machines of one LAN, through the API,
 * proven with real packets. Seed 002:
 *   [root@bdc01 ~]# docker network create -d overlay --subnet 172.16.0.0/24 --gateway 172.16.0.254 overlay
 *   docker run --network overlay busybox   (on bdc01 and on bdc02)
 * each node has eth0 on the overlay (MTU 1450) and eth1 for egress (docker_gwbridge); the seed's
 * two nodes could not ping each other, in Labnet they must. Seed 001 exercise 3: an overlay
 * with vxlan id 257. The LAN is 10.1.0.0/24 here (the machines are .11 and .12), which keeps
 * seed 001's overlay subnet 10.0.0.0/24 apart from it.
 */
import type { components } from "@labnet/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/kernel-state";
import type { TestLabnet } from "../helpers/labnet";
import { execIn, netnsOf, ping, type SimHost } from "../helpers/netns";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";

type Machine = components["schemas"]["Machine"];
type Network = components["schemas"]["Network"];
type Node = components["schemas"]["Node"];

let labnet: TestLabnet;
let host: SimHost;
let bdc01: Machine;
let bdc02: Machine;

beforeAll(async () => {
  ({ labnet, host } = await startSimHostLabnet("ov", 63));
  // The LAN, made by hand on the lab host with the test's subnet; the machines join it by name.
  const lan = await labnet.waitingClient.POST("/v1/networks", {
    body: { name: "ov-lan", host: host.hostNetns, ipam: { configs: [{ subnet: "10.1.0.0/24" }] } },
  });
  expect(lan.response.status, JSON.stringify(lan.error)).toBe(201);
  bdc01 = await createMachine({ name: "ov-bdc01", hostname: "bdc01", lan: "ov-lan", address: "10.1.0.11" });
  bdc02 = await createMachine({ name: "ov-bdc02", hostname: "bdc02", lan: "ov-lan", address: "10.1.0.12" });
});

afterAll(async () => {
  for (const machine of [bdc01, bdc02]) {
    if (machine) {
      await labnet?.waitingClient
        .DELETE("/v1/machines/{machineId}", {
          params: { path: { machineId: machine.id }, query: { force: true } },
        })
        .catch(() => undefined);
    }
  }
  await labnet?.stop();
  await host?.destroy();
});

async function createMachine(body: components["schemas"]["CreateMachineRequest"]): Promise<Machine> {
  const res = await labnet.waitingClient.POST("/v1/machines", { body });
  expect(res.response.status, JSON.stringify(res.error)).toBe(201);
  if (!res.data) {
    throw new Error("no machine in the answer");
  }
  return res.data;
}

async function createOverlay(body: components["schemas"]["CreateNetworkRequest"]): Promise<Network> {
  const res = await labnet.waitingClient.POST("/v1/networks", { body: { driver: "overlay", ...body } });
  expect(res.response.status, JSON.stringify(res.error)).toBe(201);
  if (!res.data) {
    throw new Error("no network in the answer");
  }
  return res.data;
}

async function createNode(
  body: components["schemas"]["CreateNodeRequest"],
): Promise<Node & { netns: string }> {
  const res = await labnet.waitingClient.POST("/v1/nodes", { body });
  expect(res.response.status, JSON.stringify(res.error)).toBe(201);
  if (!res.data) {
    throw new Error("no node in the answer");
  }
  expect(res.data.state).toBe("ready");
  return { ...res.data, netns: netnsOf(res.data.sandboxKey) };
}

function machineNetns(machine: Machine): string {
  return netnsOf(machine.netnsPath ?? undefined);
}

/** What `ip -d addr show` shows of one interface inside a namespace. */
async function linkOf(netns: string, dev: string) {
  const res = await execIn(netns, ["ip", "-j", "-d", "addr", "show", "dev", dev]);
  expect(res.code, res.stderr).toBe(0);
  const [link] = JSON.parse(res.stdout) as {
    address: string;
    mtu: number;
    master?: string;
    linkinfo?: {
      info_kind?: string;
      info_data?: { id?: number; port?: number; link?: string; learning?: boolean };
    };
    addr_info: { family: string; local: string; prefixlen: number }[];
  }[];
  return {
    kind: link?.linkinfo?.info_kind,
    data: link?.linkinfo?.info_data,
    master: link?.master,
    mac: link?.address,
    mtu: link?.mtu,
    ipv4: link?.addr_info.filter((a) => a.family === "inet").map((a) => `${a.local}/${a.prefixlen}`),
  };
}

/** The vxlan device's own entries on a machine, `mac dst` each. */
async function fdbOf(machine: Machine, vxlan: string): Promise<string[]> {
  const res = await execIn(machineNetns(machine), ["bridge", "-j", "fdb", "show", "dev", vxlan]);
  expect(res.code, res.stderr).toBe(0);
  return (JSON.parse(res.stdout) as { mac: string; dst?: string }[])
    .filter((e) => e.dst !== undefined)
    .map((e) => `${e.mac} ${e.dst}`)
    .sort();
}

/** The vxlan device's permanent neighbour entries on a machine, `address mac` each. */
async function neighboursOf(machine: Machine, vxlan: string): Promise<string[]> {
  const res = await execIn(machineNetns(machine), ["ip", "-j", "neigh", "show", "dev", vxlan]);
  expect(res.code, res.stderr).toBe(0);
  return (JSON.parse(res.stdout) as { dst: string; lladdr?: string; state: string[] }[])
    .filter((n) => n.state.includes("PERMANENT"))
    .map((n) => `${n.dst} ${n.lladdr}`)
    .sort();
}

async function pingsSoon(fromNetns: string, address: string, what: string): Promise<void> {
  await eventually(async () => ((await ping(fromNetns, address)) ? true : undefined), 15_000, what);
}

describe("seed 002's overlay on bdc01 and bdc02", () => {
  let overlay: Network;
  let c1: Node & { netns: string };
  let c2: Node & { netns: string };

  it("is created once, on bdc01, and listed on every machine of the LAN", async () => {
    overlay = await createOverlay({
      name: "ov_net",
      host: bdc01.name,
      ipam: { configs: [{ subnet: "172.16.0.0/24", gateway: "172.16.0.254" }] },
    });
    expect(overlay).toMatchObject({
      driver: "overlay",
      scope: "lan",
      hostId: "",
      state: "ready",
      options: { mtu: 1450, "com.docker.network.driver.overlay.vxlanid_list": "256" },
      ipam: { configs: [{ subnet: "172.16.0.0/24", gateway: "172.16.0.254" }] },
    });
    for (const machine of [bdc01, bdc02]) {
      const res = await labnet.client.GET("/v1/networks", { params: { query: { host: machine.name } } });
      expect(res.data?.items.map((n) => n.name)).toContain("ov_net");
    }
  });

  it("gives each node eth0 on the overlay (MTU 1450) and eth1 on its machine's docker_gwbridge", async () => {
    c1 = await createNode({ name: "c1", host: bdc01.name, networkMode: "ov_net" });
    c2 = await createNode({ name: "c2", host: bdc02.name, networkMode: "ov_net" });
    expect(c1.networkSettings.networks.ov_net?.ipAddress).toBe("172.16.0.1");
    expect(c2.networkSettings.networks.ov_net?.ipAddress).toBe("172.16.0.2");
    for (const node of [c1, c2]) {
      const eth0 = await linkOf(node.netns, "eth0");
      expect(eth0.mtu).toBe(1450);
      expect(eth0.ipv4?.[0]).toMatch(/^172\.16\.0\.[12]\/24$/);
      const eth1 = await linkOf(node.netns, "eth1");
      expect(eth1.mtu).toBe(1500);
      expect(node.networkSettings.networks.docker_gwbridge?.ipAddress).toBe(eth1.ipv4?.[0]?.split("/")[0]);
      const route = await execIn(node.netns, ["ip", "route", "show", "default"]);
      expect(route.stdout).toContain(
        `via ${node.networkSettings.networks.docker_gwbridge?.gateway} dev eth1`,
      );
    }
    // On each machine: the overlay's bridge without an address, and lnvx-256 on it over eth0.
    for (const machine of [bdc01, bdc02]) {
      const vxlan = await linkOf(machineNetns(machine), "lnvx-256");
      expect(vxlan).toMatchObject({
        kind: "vxlan",
        mtu: 1450,
        master: overlay.options.bridgeName,
        data: { id: 256, port: 4789, link: "eth0", learning: false },
      });
      expect((await linkOf(machineNetns(machine), overlay.options.bridgeName ?? "")).ipv4).toEqual([]);
    }
    expect(await fdbOf(bdc01, "lnvx-256")).toEqual([
      "00:00:00:00:00:00 10.1.0.12",
      "02:42:ac:10:00:02 10.1.0.12",
    ]);
    expect(await fdbOf(bdc02, "lnvx-256")).toEqual([
      "00:00:00:00:00:00 10.1.0.11",
      "02:42:ac:10:00:01 10.1.0.11",
    ]);
    // The vxlan answers ARP for the remote endpoints itself (proxy), from Postgres.
    expect(await neighboursOf(bdc01, "lnvx-256")).toEqual(["172.16.0.2 02:42:ac:10:00:02"]);
    expect(await neighboursOf(bdc02, "lnvx-256")).toEqual(["172.16.0.1 02:42:ac:10:00:01"]);
    const view = await labnet.client.GET("/v1/networks/{networkId}", {
      params: { path: { networkId: overlay.id } },
    });
    expect(view.data?.peers).toEqual([
      { hostId: bdc01.id, name: bdc01.name, address: "10.1.0.11" },
      { hostId: bdc02.id, name: bdc02.name, address: "10.1.0.12" },
    ]);
  });

  it("the two nodes ping each other across the machines, at full overlay MTU", async () => {
    await pingsSoon(c1.netns, "172.16.0.2", "c1 to ping c2 over the overlay");
    expect(await ping(c2.netns, "172.16.0.1")).toBe(true);
    // 1450 - 28 bytes of IP and ICMP headers, not fragmented.
    const big = await execIn(c1.netns, [
      "ping",
      "-n",
      "-q",
      "-c1",
      "-W2",
      "-M",
      "do",
      "-s",
      "1422",
      "172.16.0.2",
    ]);
    expect(big.code, big.stdout + big.stderr).toBe(0);
  });

  it("each node reaches the lab host's outside world through docker_gwbridge", async () => {
    for (const node of [c1, c2]) {
      await pingsSoon(node.netns, host.outsideAddress ?? "", `${node.name} to reach the outside`);
    }
  });

  it("a third node joining on bdc01 is reached from bdc02 without a restart; when it leaves, its entry goes", async () => {
    const c3 = await createNode({
      name: "c3",
      host: bdc01.name,
      networks: [{ network: "ov_net", ipv4Address: "172.16.0.33" }],
    });
    expect(c3.networkSettings.networks.ov_net?.macAddress).toBe("02:42:ac:10:00:21");
    await pingsSoon(c2.netns, "172.16.0.33", "c2 to reach c3");
    expect(await fdbOf(bdc02, "lnvx-256")).toContain("02:42:ac:10:00:21 10.1.0.11");
    expect(await neighboursOf(bdc02, "lnvx-256")).toContain("172.16.0.33 02:42:ac:10:00:21");

    const removed = await labnet.waitingClient.DELETE("/v1/nodes/{nodeId}", {
      params: { path: { nodeId: c3.id } },
    });
    expect(removed.response.status).toBe(204);
    await eventually(
      async () =>
        (await fdbOf(bdc02, "lnvx-256")).some((e) => e.startsWith("02:42:ac:10:00:21")) ? undefined : true,
      10_000,
      "c3's fdb entry to go from bdc02",
    );
    expect(await fdbOf(bdc02, "lnvx-256")).toEqual([
      "00:00:00:00:00:00 10.1.0.11",
      "02:42:ac:10:00:01 10.1.0.11",
    ]);
    expect(await neighboursOf(bdc02, "lnvx-256")).toEqual(["172.16.0.1 02:42:ac:10:00:01"]);
    expect(await ping(c2.netns, "172.16.0.1")).toBe(true);
  });

  it("a node disconnected from the overlay leaves it (and docker_gwbridge) on its machine", async () => {
    const res = await labnet.waitingClient.POST("/v1/networks/{networkId}/disconnect", {
      params: { path: { networkId: overlay.id } },
      body: { node: c2.id },
    });
    expect(res.response.status, JSON.stringify(res.error)).toBe(200);
    expect(Object.keys(res.data?.networkSettings.networks ?? {})).toEqual([]);
    await eventually(
      async () => ((await fdbOf(bdc01, "lnvx-256")).length === 0 ? true : undefined),
      10_000,
      "bdc02's entries to go from bdc01",
    );
    const links = await execIn(machineNetns(bdc02), ["ip", "-o", "link", "show"]);
    expect(links.stdout).not.toContain("lnvx-256");
    expect(await ping(c1.netns, "172.16.0.2", { timeoutSec: 1 })).toBe(false);
  });
});

describe("a forced removal of seed 002's overlay", () => {
  it("clears it from both machines after a node connected again", async () => {
    const list = await labnet.client.GET("/v1/nodes", { params: { query: { host: bdc02.name } } });
    const c2 = list.data?.items.find((n) => n.name === "c2");
    const overlay = (
      await labnet.client.GET("/v1/networks/{networkId}", { params: { path: { networkId: "ov_net" } } })
    ).data;
    expect(c2 && overlay).toBeTruthy();
    const connected = await labnet.waitingClient.POST("/v1/networks/{networkId}/connect", {
      params: { path: { networkId: overlay?.id ?? "" } },
      body: { node: c2?.id ?? "" },
    });
    expect(connected.response.status, JSON.stringify(connected.error)).toBe(200);
    const settings = connected.data?.networkSettings.networks;
    expect(Object.keys(settings ?? {}).sort()).toEqual(["docker_gwbridge", "ov_net"]);
    await pingsSoon(netnsOf(c2?.sandboxKey), "172.16.0.1", "c2, connected again, to ping c1");

    const removed = await labnet.waitingClient.DELETE("/v1/networks/{networkId}", {
      params: { path: { networkId: overlay?.id ?? "" }, query: { force: true } },
    });
    expect(removed.response.status).toBe(204);
    for (const machine of [bdc01, bdc02]) {
      await eventually(
        async () => {
          const links = await execIn(machineNetns(machine), ["ip", "-o", "link", "show"]);
          const left =
            links.stdout.includes("lnvx-256") || links.stdout.includes(overlay?.options.bridgeName ?? "-");
          return left ? undefined : true;
        },
        10_000,
        `ov_net to go from ${machine.name}`,
      );
    }
  });
});

describe("seed 001 exercise 3: an overlay with vxlan id 257", () => {
  it("is built with VNI 257 and its nodes on the two machines reach each other", async () => {
    const net = await createOverlay({
      name: "net_overlay",
      host: bdc02.name,
      ipam: { configs: [{ subnet: "10.0.0.0/24" }] },
      options: { "com.docker.network.driver.overlay.vxlanid_list": "257" },
    });
    expect(net.options["com.docker.network.driver.overlay.vxlanid_list"]).toBe("257");
    const hello1 = await createNode({ name: "hello1", host: bdc02.name, networkMode: "net_overlay" });
    const hello2 = await createNode({ name: "hello2", host: bdc01.name, networkMode: "net_overlay" });
    const a1 = hello1.networkSettings.networks.net_overlay?.ipAddress ?? "";
    const a2 = hello2.networkSettings.networks.net_overlay?.ipAddress ?? "";
    expect([a1, a2]).toEqual(["10.0.0.2", "10.0.0.3"]);
    expect((await linkOf(machineNetns(bdc01), "lnvx-257")).data?.id).toBe(257);
    await pingsSoon(hello2.netns, a1, "hello2 to ping hello1 over VNI 257");
    expect(await fdbOf(bdc01, "lnvx-257")).toEqual([
      "00:00:00:00:00:00 10.1.0.12",
      `${hello1.networkSettings.networks.net_overlay?.macAddress} 10.1.0.12`,
    ]);
  });

  it("deleting bdc02 takes its VTEP and endpoints out of bdc01's vxlan", async () => {
    const res = await labnet.waitingClient.DELETE("/v1/machines/{machineId}", {
      params: { path: { machineId: bdc02.id }, query: { force: true } },
    });
    expect([202, 204]).toContain(res.response.status);
    await eventually(
      async () => ((await fdbOf(bdc01, "lnvx-257")).length === 0 ? true : undefined),
      15_000,
      "bdc02's entries to go from bdc01",
    );
  });
});
