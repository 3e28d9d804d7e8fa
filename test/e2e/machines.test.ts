/**
 * Issue 8, machines: virtual machines on one lab host, each a Docker host of its own with the
 * seeds' exact addresses (docker0's 172.17.0.0/16, `my-net`, centos1 and centos2), its own nat
 * table and name service, on LANs of the lab host. Everything through the API; real packets.
 */
import { rm } from "node:fs/promises";
import type { components } from "@labnet/api";
import { runCommand } from "@labnet/devstack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/kernel-state";
import type { TestLabnet } from "../helpers/labnet";
import { execIn, netnsOf, ping, type SimHost } from "../helpers/netns";
import { callPeer, startPeer } from "../helpers/peers";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";
import { USERNS_PIN_DIR } from "../helpers/userns-pins";

type Machine = components["schemas"]["Machine"];
type Node = components["schemas"]["Node"];

let labnet: TestLabnet;
let host: SimHost;

beforeAll(async () => {
  ({ labnet, host } = await startSimHostLabnet("mh", 61));
});

afterAll(async () => {
  await labnet?.stop();
  await host?.destroy();
});

async function createMachine(body: components["schemas"]["CreateMachineRequest"]): Promise<Machine> {
  const res = await labnet.waitingClient.POST("/v1/machines", { body });
  expect(res.response.status, JSON.stringify(res.error)).toBe(201);
  if (!res.data) {
    throw new Error("no machine in the answer");
  }
  expect(res.data.state).toBe("ready");
  return res.data;
}

async function createNetwork(machine: string, name: string): Promise<void> {
  const res = await labnet.waitingClient.POST("/v1/networks", { body: { name, host: machine } });
  expect(res.response.status, JSON.stringify(res.error)).toBe(201);
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

/** Runs a command from the test's own namespace (nsenter does the entering), never a shell there. */
function execInHost(argv: string[]) {
  return runCommand(argv, { timeoutMs: 30_000 });
}

function machineNetns(machine: Machine): string {
  return netnsOf(machine.netnsPath ?? undefined);
}

describe("two machines on one LAN", () => {
  let bdc01: Machine;
  let bdc02: Machine;

  it("are built with eth0 on the LAN, a default route through the lab host and docker0's addresses", async () => {
    bdc01 = await createMachine({ name: "mh-bdc01", hostname: "bdc01", lan: "lan-a", address: "10.0.0.11" });
    bdc02 = await createMachine({ name: "mh-bdc02", hostname: "bdc02", lan: "lan-a", address: "10.0.0.12" });
    expect(bdc01.lan).toMatchObject({ name: "lan-a", subnet: "10.0.0.0/24", address: "10.0.0.11" });
    expect(bdc01.kind).toBe("virtual");
    const ns = machineNetns(bdc01);
    const addr = await execIn(ns, ["ip", "-4", "-o", "addr", "show"]);
    expect(addr.stdout).toContain("eth0    inet 10.0.0.11/24");
    expect(addr.stdout).toContain("inet 172.17.0.1/16");
    const route = await execIn(ns, ["ip", "route", "show", "default"]);
    expect(route.stdout).toContain(`via ${bdc01.lan?.gateway} dev eth0`);
    expect((await execIn(ns, ["sysctl", "-n", "net.ipv4.ip_forward"])).stdout.trim()).toBe("1");
    expect(await ping(machineNetns(bdc01), "10.0.0.12")).toBe(true);
  });

  it("each has its own my-net, centos1 and centos2 at the same addresses; names resolve within a machine", async () => {
    const nodes: Record<string, Node & { netns: string }> = {};
    for (const machine of [bdc01, bdc02]) {
      await createNetwork(machine.name, "my-net");
      for (const name of ["centos1", "centos2"]) {
        nodes[`${machine.name}/${name}`] = await createNode({
          name,
          host: machine.name,
          networkMode: "my-net",
        });
      }
    }
    const address = (key: string) => nodes[key]?.networkSettings.networks["my-net"]?.ipAddress;
    expect(address("mh-bdc01/centos1")).toBe(address("mh-bdc02/centos1"));
    expect(address("mh-bdc01/centos2")).toBe(address("mh-bdc02/centos2"));
    for (const machine of [bdc01, bdc02]) {
      const centos1 = nodes[`${machine.name}/centos1`];
      const pinged = await eventually(
        async () => {
          const result = await execIn(centos1?.netns ?? "", ["ping", "-c1", "-W1", "centos2"]);
          return result.code === 0 ? result.stdout : undefined;
        },
        10_000,
        `centos1 to ping centos2 on ${machine.name}`,
      );
      expect(pinged).toContain(address(`${machine.name}/centos2`));
    }
  });

  it("each machine's nat table holds only its own rules", async () => {
    const nat1 = (await execIn(machineNetns(bdc01), ["iptables-save", "-t", "nat"])).stdout;
    const nat2 = (await execIn(machineNetns(bdc02), ["iptables-save", "-t", "nat"])).stdout;
    expect(nat1).toContain("-A LABNET-POSTROUTING -s 172.17.0.0/16");
    const bridges = async (machine: Machine) => {
      const res = await labnet.client.GET("/v1/networks", { params: { query: { host: machine.name } } });
      return (res.data?.items ?? []).map((n) => n.options.bridgeName ?? "");
    };
    // Each machine is a Docker host of its own: its predefined network's bridge is docker0, as
    // the seeds show it (ip addr show docker0), with its own rules.
    const own1 = await bridges(bdc01);
    expect(own1).toContain("docker0");
    for (const nat of [nat1, nat2]) {
      expect(nat).toContain("-A LABNET-POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE");
    }
    const docker0 = JSON.parse(
      (await execIn(machineNetns(bdc01), ["ip", "-j", "-d", "addr", "show", "docker0"])).stdout,
    );
    expect(docker0[0]).toMatchObject({
      ifname: "docker0",
      ifalias: "labnet",
      linkinfo: { info_kind: "bridge" },
    });
    // The bridges the two do not share are each in its own machine's table only.
    for (const bridge of (await bridges(bdc02)).filter((b) => !own1.includes(b))) {
      expect(nat1).not.toContain(bridge);
      expect(nat2).toContain(bridge);
    }
    // The lab host's own machine has its own docker0, and none of the virtual machines' bridges.
    const labNat = (await execIn(host.hostNetns, ["iptables-save", "-t", "nat"])).stdout;
    for (const bridge of [...(await bridges(bdc01)), ...(await bridges(bdc02))]) {
      expect(labNat).not.toContain(bridge);
    }
  });

  it("-p 8080:80 on both: each answers on its own machine address, and from outside through its external port", async () => {
    const external: number[] = [];
    for (const [machine, label] of [
      [bdc01, "web-on-bdc01"],
      [bdc02, "web-on-bdc02"],
    ] as const) {
      const web = await createNode({
        name: "web",
        host: machine.name,
        networkMode: "my-net",
        ports: ["8080:80"],
      });
      await startPeer(web.netns, { tcpPort: 80, label, name: `peer-${label}` });
      const ledger = await labnet.client.GET("/v1/machines/{machineId}/ports", {
        params: { path: { machineId: machine.name } },
      });
      const mapping = ledger.data?.items.find((m) => m.nodeName === "web");
      expect(mapping).toMatchObject({
        hostPort: 8080,
        containerPort: 80,
        external: { hostId: expect.any(String) },
      });
      external.push(mapping?.external?.hostPort ?? 0);
    }
    // On the machine's own address (宿主机IP:8080), from the other machine on the LAN.
    expect((await callPeer(machineNetns(bdc02), "10.0.0.11", { port: 8080 }))?.name).toBe("web-on-bdc01");
    expect((await callPeer(machineNetns(bdc01), "10.0.0.12", { port: 8080 }))?.name).toBe("web-on-bdc02");
    // On the machine's own 127.0.0.1, as on a Docker host (curl 127.0.0.1:8080 there).
    expect((await callPeer(machineNetns(bdc01), "127.0.0.1", { port: 8080 }))?.name).toBe("web-on-bdc01");
    // From the lab host's outside world, through the lab host's two external ports.
    const outside = host.outsideNetns ?? "";
    const uplink = host.uplinkAddress ?? "";
    expect((await callPeer(outside, uplink, { port: external[0] ?? 0 }))?.name).toBe("web-on-bdc01");
    expect((await callPeer(outside, uplink, { port: external[1] ?? 0 }))?.name).toBe("web-on-bdc02");
  });

  it("root of the machine's user namespace types seed 001 ex1 and seed 003 by hand; not the lab host's", async () => {
    const ns = machineNetns(bdc01);
    const pin = `${USERNS_PIN_DIR}/${ns}`;
    const asMachineRoot = (argv: string[]) =>
      execInHost(["nsenter", `--user=${pin}`, `--net=/run/netns/${ns}`, "--", ...argv]);
    const networks = await labnet.client.GET("/v1/networks", { params: { query: { host: bdc01.name } } });
    const docker0 = networks.data?.items.find((n) => n.name === "bridge")?.options.bridgeName ?? "";
    // Seed 001 exercise 1 (veth A/B on docker0, B into a namespace as eth0 172.17.42.1/16) and
    // seed 003 (ns1 on MyDocker0 172.16.0.1/16, MASQUERADE), in a mount namespace of its own
    // with a tmpfs on /run/netns, as a student shell will have.
    const script = [
      "set -e",
      "mount -t tmpfs tmpfs /run/netns",
      "ip netns add c1",
      "ip link add A type veth peer name B",
      `ip link set A master ${docker0} up`,
      "ip link set B netns c1",
      "ip -n c1 link set B name eth0",
      "ip -n c1 addr add 172.17.42.1/16 dev eth0",
      "ip -n c1 link set eth0 up",
      "ip -n c1 route add default via 172.17.0.1",
      "nsenter --net=/run/netns/c1 ping -c1 -W2 172.17.0.1",
      "ip netns add ns1",
      "ip link add MyDocker0 type bridge",
      "ip addr add 172.16.0.1/16 dev MyDocker0",
      "ip link set MyDocker0 up",
      "ip link add veth1 type veth peer name veth1p",
      "ip link set veth1 master MyDocker0 up",
      "ip link set veth1p netns ns1",
      "ip -n ns1 link set veth1p name eth0",
      "ip -n ns1 addr add 172.16.0.2/16 dev eth0",
      "ip -n ns1 link set eth0 up",
      "ip -n ns1 route add default via 172.16.0.1",
      "iptables -t nat -A POSTROUTING -s 172.16.0.0/16 ! -o MyDocker0 -j MASQUERADE",
      "nsenter --net=/run/netns/ns1 ping -c1 -W2 172.16.0.1",
      `nsenter --net=/run/netns/ns1 ping -c1 -W2 ${bdc01.lan?.gateway}`,
    ].join("\n");
    const typed = await asMachineRoot(["unshare", "--mount", "--", "sh", "-c", script]);
    expect(typed.code, `${typed.stdout}${typed.stderr}`).toBe(0);
    // Its root is the machine's account outside, which owns nothing of the lab host.
    const id = await asMachineRoot(["cat", "/proc/self/uid_map"]);
    expect(id.stdout.trim().split(/\s+/)).toEqual(["0", String(bdc01.uid), "1"]);
    const probe = `/etc/${host.hostNetns}-userns-probe`;
    try {
      expect((await asMachineRoot(["touch", probe])).code).not.toBe(0);
    } finally {
      await rm(probe, { force: true });
    }
    // (nsenter enters the other namespaces with the caller's rights first: enter from inside.)
    const intoLabHost = await asMachineRoot(["nsenter", `--net=/run/netns/${host.hostNetns}`, "--", "true"]);
    expect(intoLabHost.code).not.toBe(0);
    // Labnet still converges the machine: a new node on docker0 pings the hand-made c1's neighbour.
    const after = await createNode({ name: "after-hand", host: bdc01.name });
    expect(await ping(after.netns, "172.17.0.1")).toBe(true);
  });

  it("seed 002's macvlan_1 on both (parent eth0): 100.0.0.1 on bdc01 and 100.0.0.2 on bdc02 ping each other", async () => {
    const nodes: (Node & { netns: string })[] = [];
    for (const [machine, address] of [
      [bdc01, "100.0.0.1"],
      [bdc02, "100.0.0.2"],
    ] as const) {
      const net = await labnet.waitingClient.POST("/v1/networks", {
        body: {
          name: "macvlan_1",
          host: machine.name,
          driver: "macvlan",
          ipam: { configs: [{ subnet: "100.0.0.0/24", gateway: "100.0.0.254" }] },
          options: { parent: "eth0" },
        },
      });
      expect(net.response.status, JSON.stringify(net.error)).toBe(201);
      nodes.push(
        await createNode({
          name: "mv",
          host: machine.name,
          networks: [{ network: "macvlan_1", ipv4Address: address }],
        }),
      );
    }
    expect(await ping(nodes[0]?.netns ?? "", "100.0.0.2")).toBe(true);
    expect(await ping(nodes[1]?.netns ?? "", "100.0.0.1")).toBe(true);
    // A parent the machine does not have is a problem naming it, not a stuck operation.
    const bad = await labnet.request("POST", "/v1/networks", {
      body: { name: "macvlan_2", host: bdc01.name, driver: "macvlan", options: { parent: "eth1" } },
    });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(await bad.json())).toContain("body.options.parent");
  });

  it("show their kernel truth: eth0 on the LAN, docker0's address, their own nat rules", async () => {
    const res = await labnet.client.GET("/v1/machines/{machineId}/kernel", {
      params: { path: { machineId: bdc01.name } },
    });
    expect(res.response.status, JSON.stringify(res.error)).toBe(200);
    const kernel = res.data;
    const eth0 = kernel?.interfaces.find((i) => i.name === "eth0");
    expect(eth0?.addresses.map((a) => `${a.address}/${a.prefixLength}`)).toContain("10.0.0.11/24");
    const addresses = kernel?.interfaces.flatMap((i) => i.addresses.map((a) => a.address)) ?? [];
    expect(addresses).toContain("172.17.0.1");
    expect(kernel?.iptables.nat).toContain("-s 172.17.0.0/16");
    expect(kernel?.sysctls.ipForward).toBe(true);
  });

  it("are listed as machines of the lab host", async () => {
    const res = await labnet.client.GET("/v1/machines", { params: { query: { host: host.hostNetns } } });
    const names = (res.data?.items ?? []).map((m) => `${m.kind}:${m.name}`);
    expect(names).toEqual(
      expect.arrayContaining(["virtual:mh-bdc01", "virtual:mh-bdc02", `lab:${host.hostNetns}`]),
    );
  });

  it("deleting a machine with force removes everything on it, then the machine", async () => {
    const res = await labnet.client.DELETE("/v1/machines/{machineId}", {
      params: { path: { machineId: bdc02.name }, query: { force: true } },
    });
    expect(res.response.status).toBe(202);
    await eventually(
      async () => {
        const got = await labnet.client.GET("/v1/machines/{machineId}", {
          params: { path: { machineId: bdc02.id } },
        });
        return got.response.status === 404 ? true : undefined;
      },
      30_000,
      "the machine to be gone",
    );
    const left = await execIn(host.hostNetns, ["ip", "netns", "list"]);
    expect(left.stdout).not.toContain(bdc02.netnsPrefix);
    expect(left.stdout).not.toContain(machineNetns(bdc02));
  });
});
