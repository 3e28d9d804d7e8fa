/**
 * Issue 8, deliverable 6: the kernel truth of a machine. A real executor in a simulated host
 * answers `GET /v1/machines/{id}/kernel` from its kernel at request time: the bridge with its
 * gateway address, the node's host veth as a port of it, the route of the bridge's subnet and
 * the MASQUERADE of the subnet in the nat text; a link made by hand, which Postgres knows
 * nothing of, shows on the next call.
 */
import type { Schema } from "@labnet/api";
import { hostVethName } from "@labnet/netplan";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestLabnet } from "../helpers/labnet";
import { execIn, type SimHost } from "../helpers/netns";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";

type MachineKernel = Schema<"MachineKernel">;

let labnet: TestLabnet;
let host: SimHost;

beforeAll(async () => {
  ({ labnet, host } = await startSimHostLabnet("kv", 70));
});

afterAll(async () => {
  await labnet?.stop();
  await host?.destroy();
});

async function kernelOf(machine: string): Promise<MachineKernel> {
  const res = await labnet.client.GET("/v1/machines/{machineId}/kernel", {
    params: { path: { machineId: machine } },
  });
  expect(res.error).toBeUndefined();
  expect(res.response.status).toBe(200);
  if (!res.data) {
    throw new Error("no kernel view");
  }
  return res.data;
}

describe("GET /v1/machines/{machineId}/kernel", () => {
  it("shows the bridge, its gateway, the node's veth as its port, the subnet's route and MASQUERADE", async () => {
    const network = await labnet.waitingClient.POST("/v1/networks", {
      body: { name: "kv-net", ipam: { configs: [{ subnet: "172.29.5.0/24" }] } },
    });
    expect(network.response.status).toBe(201);
    const bridgeName = network.data?.options.bridgeName ?? "";
    const node = await labnet.waitingClient.POST("/v1/nodes", {
      body: { name: "kv1", networkMode: "kv-net" },
    });
    expect(node.response.status).toBe(201);
    const endpointId = node.data?.networkSettings.networks["kv-net"]?.endpointId ?? "";
    const veth = hostVethName(endpointId);

    const view = await kernelOf(host.hostNetns);
    const hostRow = (
      await labnet.client.GET("/v1/hosts/{hostId}", { params: { path: { hostId: host.hostNetns } } })
    ).data;
    expect(view.machine).toEqual({ id: hostRow?.id, name: host.hostNetns });
    expect(Date.parse(view.observedAt)).toBeGreaterThan(Date.now() - 60_000);

    const bridge = view.interfaces.find((i) => i.name === bridgeName);
    expect(bridge).toMatchObject({ kind: "bridge", up: true, mtu: 1500 });
    expect(bridge?.addresses).toContainEqual({
      family: "inet",
      address: "172.29.5.1",
      prefixLength: 24,
      scope: "global",
    });
    expect(view.interfaces.find((i) => i.name === veth)).toMatchObject({
      kind: "veth",
      master: bridgeName,
      up: true,
    });
    expect(view.bridges.find((b) => b.name === bridgeName)?.ports).toContainEqual(
      expect.objectContaining({ name: veth, state: "forwarding" }),
    );
    expect(view.routes).toContainEqual(
      expect.objectContaining({ dst: "172.29.5.0/24", dev: bridgeName, protocol: "kernel", scope: "link" }),
    );
    expect(view.iptables.nat).toMatch(/^\*nat\n/);
    expect(view.iptables.nat).toContain(`-s 172.29.5.0/24 ! -o ${bridgeName} -j MASQUERADE`);
    expect(view.iptables.nat).toContain("-A POSTROUTING -j LABNET-POSTROUTING");
    expect(view.iptables.filter).toContain("-A FORWARD -j LABNET-FORWARD");
    // Only Labnet's: the uplink's rules-free host has nothing else, but nothing else may show.
    for (const text of [view.iptables.nat, view.iptables.filter, view.iptables.raw]) {
      for (const line of text.split("\n").filter((l) => l.startsWith("-A ") || l.startsWith(":"))) {
        expect(line).toMatch(/LABNET-/);
      }
    }
    expect(view.sysctls.ipForward).toBe(true);
  });

  it("is read from the kernel at request time, not from Postgres", async () => {
    await execIn(host.hostNetns, ["ip", "link", "add", "kvhand0", "type", "veth", "peer", "name", "kvhand1"]);
    try {
      const names = (await kernelOf(host.hostNetns)).interfaces.map((i) => i.name);
      expect(names).toEqual(expect.arrayContaining(["kvhand0", "kvhand1"]));
    } finally {
      await execIn(host.hostNetns, ["ip", "link", "del", "kvhand0"]);
    }
    const names = (await kernelOf(host.hostNetns)).interfaces.map((i) => i.name);
    expect(names).not.toContain("kvhand0");
  });

  it("answers 404 for an unknown machine", async () => {
    const res = await labnet.client.GET("/v1/machines/{machineId}/kernel", {
      params: { path: { machineId: "kv-nobody" } },
    });
    expect(res.response.status).toBe(404);
    expect(res.error?.code).toBe("NOT_FOUND");
  });
});
