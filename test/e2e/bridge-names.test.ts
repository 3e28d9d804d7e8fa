/**
 * Chosen bridge names in the kernel (issue 12: `-o com.docker.network.bridge.name=`): a real
 * executor in a simulated host builds `br-web` as the network's bridge, marked as Labnet's
 * (ifalias), with its nodes' veths on it and packets between them; it is isolated from a
 * Labnet-named bridge like any other; a `docker0` made by hand, which is not Labnet's, fails
 * the network that wants its name, is left as it was, and the host's other work goes on; the
 * bridge goes with its network.
 */
import type { Schema } from "@labnet/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestLabnet } from "../helpers/labnet";
import { execIn, netnsOf, ping, type SimHost } from "../helpers/netns";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";

let labnet: TestLabnet;
let host: SimHost;

beforeAll(async () => {
  ({ labnet, host } = await startSimHostLabnet("bn", 76));
});

afterAll(async () => {
  await labnet?.stop();
  await host?.destroy();
});

interface LinkJson {
  ifname: string;
  ifalias?: string;
  master?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

async function linkOf(name: string): Promise<LinkJson | undefined> {
  const res = await execIn(host.hostNetns, ["ip", "-j", "-d", "addr", "show", "dev", name]);
  return res.code === 0 ? (JSON.parse(res.stdout) as LinkJson[])[0] : undefined;
}

async function node(name: string, network: string): Promise<Schema<"Node">> {
  const res = await labnet.waitingClient.POST("/v1/nodes", { body: { name, networkMode: network } });
  expect(res.response.status, JSON.stringify(res.error)).toBe(201);
  if (!res.data) {
    throw new Error(`no node ${name}`);
  }
  return res.data;
}

const addressOf = (n: Schema<"Node">, network: string) =>
  n.networkSettings.networks[network]?.ipAddress ?? "";

describe("a bridge network with a chosen bridge name", () => {
  it("is built under that name, marked Labnet's, and carries its nodes' packets", async () => {
    const net = await labnet.waitingClient.POST("/v1/networks", {
      body: {
        name: "bn-web",
        ipam: { configs: [{ subnet: "172.29.7.0/24" }] },
        options: { "com.docker.network.bridge.name": "br-web" },
      },
    });
    expect(net.response.status, JSON.stringify(net.error)).toBe(201);
    expect(net.data).toMatchObject({ state: "ready", options: { bridgeName: "br-web" } });
    const bridge = await linkOf("br-web");
    expect(bridge).toMatchObject({ ifalias: "labnet", linkinfo: { info_kind: "bridge" } });
    expect(bridge?.addr_info).toContainEqual(
      expect.objectContaining({ family: "inet", local: "172.29.7.1", prefixlen: 24 }),
    );

    const a = await node("bn-a", "bn-web");
    const b = await node("bn-b", "bn-web");
    expect(await ping(netnsOf(a.sandboxKey), addressOf(b, "bn-web"))).toBe(true);
    const rules = (await execIn(host.hostNetns, ["iptables-save"])).stdout;
    expect(rules).toContain("-A LABNET-POSTROUTING -s 172.29.7.0/24 ! -o br-web -j MASQUERADE");
  });

  it("is isolated from a Labnet-named bridge network, both ways", async () => {
    const other = await labnet.waitingClient.POST("/v1/networks", {
      body: { name: "bn-other", ipam: { configs: [{ subnet: "172.29.8.0/24" }] } },
    });
    expect(other.data?.options.bridgeName).toMatch(/^lnbr-/);
    const c = await node("bn-c", "bn-other");
    const a = (await labnet.client.GET("/v1/nodes/{nodeId}", { params: { path: { nodeId: "bn-a" } } })).data;
    // Each reaches its own gateway, neither the other's node.
    expect(await ping(netnsOf(c.sandboxKey), "172.29.8.1")).toBe(true);
    expect(await ping(netnsOf(c.sandboxKey), a ? addressOf(a, "bn-web") : "")).toBe(false);
    expect(await ping(netnsOf(a?.sandboxKey), addressOf(c, "bn-other"))).toBe(false);
    // The control: two networks with isolation off, one of them chosen-named, route to each other.
    for (const [name, subnet, options] of [
      ["bn-open1", "172.29.11.0/24", { isolated: false, bridgeName: "br-open" }],
      ["bn-open2", "172.29.12.0/24", { isolated: false }],
    ] as const) {
      const res = await labnet.waitingClient.POST("/v1/networks", {
        body: { name, ipam: { configs: [{ subnet }] }, options },
      });
      expect(res.data?.state).toBe("ready");
    }
    const d = await node("bn-d", "bn-open1");
    const e = await node("bn-e", "bn-open2");
    expect(await ping(netnsOf(d.sandboxKey), addressOf(e, "bn-open2"))).toBe(true);
    expect(await ping(netnsOf(e.sandboxKey), addressOf(d, "bn-open1"))).toBe(true);
  });

  it("fails when the name is someone else's link, leaves that link alone, and the rest converges", async () => {
    // A dockerd's docker0 appearing after the executor looked (its interfaces list lacks it).
    await execIn(host.hostNetns, ["ip", "link", "add", "docker0", "type", "bridge"]);
    const [taken, fine] = await Promise.all([
      labnet.waitingClient.POST("/v1/networks", {
        body: {
          name: "bn-taken",
          ipam: { configs: [{ subnet: "172.29.9.0/24" }] },
          options: { bridgeName: "docker0" },
        },
      }),
      labnet.waitingClient.POST("/v1/networks", {
        body: { name: "bn-fine", ipam: { configs: [{ subnet: "172.29.10.0/24" }] } },
      }),
    ]);
    expect(fine.data?.state).toBe("ready");
    const failed = await labnet.client.GET("/v1/networks/{networkId}", {
      params: { path: { networkId: "bn-taken" } },
    });
    expect(failed.data?.state).toBe("failed");
    const operation = await labnet.client.GET("/v1/operations/{operationId}", {
      params: { path: { operationId: taken.data?.operation?.id ?? "" } },
    });
    expect(operation.data?.state).toBe("failed");
    expect(JSON.stringify(operation.data)).toContain(
      "refusing bridge docker0: the host already has an interface of that name that is not Labnet's",
    );
    const docker0 = await linkOf("docker0");
    expect(docker0?.ifalias).toBeUndefined();
    expect(docker0?.addr_info?.filter((a) => a.family === "inet")).toEqual([]);
  });

  it("goes with its network", async () => {
    for (const nodeId of ["bn-a", "bn-b"]) {
      const res = await labnet.waitingClient.DELETE("/v1/nodes/{nodeId}", {
        params: { path: { nodeId } },
      });
      expect(res.response.status).toBeLessThan(300);
    }
    const res = await labnet.waitingClient.DELETE("/v1/networks/{networkId}", {
      params: { path: { networkId: "bn-web" } },
    });
    expect(res.response.status).toBeLessThan(300);
    expect(await linkOf("br-web")).toBeUndefined();
    expect((await execIn(host.hostNetns, ["iptables-save"])).stdout).not.toContain("br-web");
    // Someone else's docker0 is still there.
    expect(await linkOf("docker0")).toBeDefined();
  });
});
