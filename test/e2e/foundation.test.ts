/**
 * Issue 2 acceptance: one simulated host, bridge networks and nodes, driven through the
 * HTTP API, carried by the outbox and the queue, built by a real executor in a namespace,
 * and proven with real packets.
 */
import { schema } from "@labnet/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectHostMatchesDatabase, waitForOperations } from "../helpers/kernel-state";
import type { TestLabnet } from "../helpers/labnet";
import { execIn, netnsOf, ping, type SimHost } from "../helpers/netns";
import { callPeer, startPeer } from "../helpers/peers";
import { expectProblemChangingNothing, type ProblemCase } from "../helpers/problems";
import { countRows } from "../helpers/row-counts";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";

let labnet: TestLabnet;
let host: SimHost;

beforeAll(async () => {
  ({ labnet, host } = await startSimHostLabnet("fh", 21));
});

afterAll(async () => {
  await labnet?.stop();
  await host?.destroy();
});

const rowCounts = () =>
  countRows(labnet.db, {
    networks: schema.networks,
    nodes: schema.nodes,
    allocations: schema.allocations,
    operations: schema.operations,
  });

describe("bridge network my-net with centos1 and centos2", () => {
  it("builds the network, gives the nodes .2 and .3 with Docker MACs, and they ping each other", async () => {
    const net = await labnet.waitingClient.POST("/v1/networks", { body: { name: "my-net" } });
    expect(net.error).toBeUndefined();
    expect(net.response.status).toBe(201);
    expect(net.data?.state).toBe("ready");
    expect(net.data?.ipam.configs[0]).toMatchObject({ subnet: "172.18.0.0/16", gateway: "172.18.0.1" });

    const one = await labnet.waitingClient.POST("/v1/nodes", {
      body: { name: "centos1", networkMode: "my-net" },
    });
    const two = await labnet.waitingClient.POST("/v1/nodes", {
      body: { name: "centos2", networkMode: "my-net" },
    });
    expect(one.response.status).toBe(201);
    expect(two.response.status).toBe(201);
    const ep1 = one.data?.networkSettings.networks["my-net"];
    const ep2 = two.data?.networkSettings.networks["my-net"];
    expect(ep1).toMatchObject({
      ipAddress: "172.18.0.2",
      ipPrefixLen: 16,
      gateway: "172.18.0.1",
      macAddress: "02:42:ac:12:00:02",
      interface: "eth0",
    });
    expect(ep2).toMatchObject({ ipAddress: "172.18.0.3", macAddress: "02:42:ac:12:00:03" });

    const ns1 = netnsOf(one.data?.sandboxKey);
    const ns2 = netnsOf(two.data?.sandboxKey);
    // What the kernel has, not what the API says.
    const addr = await execIn(ns1, ["ip", "-o", "-4", "addr", "show", "dev", "eth0"]);
    expect(addr.stdout).toContain("172.18.0.2/16");
    const link = await execIn(ns2, ["ip", "-o", "link", "show", "dev", "eth0"]);
    expect(link.stdout).toContain("02:42:ac:12:00:03");
    const route = await execIn(ns1, ["ip", "route", "show", "default"]);
    expect(route.stdout).toContain("via 172.18.0.1 dev eth0");

    expect(await ping(ns1, "172.18.0.3")).toBe(true);
    expect(await ping(ns2, "172.18.0.2")).toBe(true);
  });

  it("reaches the outside through the host, MASQUERADEd to the host's uplink address", async () => {
    const outside = host.outsideNetns ?? "";
    await startPeer(outside, { tcpPort: 7000 });
    const node = await labnet.client.GET("/v1/nodes/{nodeId}", { params: { path: { nodeId: "centos1" } } });
    const ns = netnsOf(node.data?.sandboxKey);
    const reply = await callPeer(ns, host.outsideAddress ?? "", { protocol: "tcp", port: 7000 });
    expect(reply?.address).toBe(host.uplinkAddress);
  });

  it("shows the nodes in the network's inspect view", async () => {
    const net = await labnet.client.GET("/v1/networks/{networkId}", {
      params: { path: { networkId: "my-net" } },
    });
    const containers = Object.values(net.data?.containers ?? {});
    expect(containers.map((c) => [c.name, c.ipv4Address, c.macAddress]).sort()).toEqual([
      ["centos1", "172.18.0.2/16", "02:42:ac:12:00:02"],
      ["centos2", "172.18.0.3/16", "02:42:ac:12:00:03"],
    ]);
  });
});

describe("network mode none", () => {
  it("gives the node only lo", async () => {
    const res = await labnet.waitingClient.POST("/v1/nodes", {
      body: { name: "lonely", networkMode: "none" },
    });
    expect(res.response.status).toBe(201);
    expect(res.data?.networkSettings.networks).toEqual({});
    const ns = netnsOf(res.data?.sandboxKey);
    const links = await execIn(ns, ["ip", "-o", "link", "show"]);
    expect(links.code).toBe(0);
    const names = links.stdout
      .trim()
      .split("\n")
      .map((l) => l.split(":")[1]?.trim());
    expect(names).toEqual(["lo"]);
  });
});

describe("bad input answers a problem naming the field and changes nothing", () => {
  const cases: (ProblemCase & { name: string; code: string })[] = [
    {
      name: "bad CIDR",
      method: "POST",
      path: "/v1/networks",
      body: { name: "bad1", ipam: { configs: [{ subnet: "172.40.0.1/16" }] } },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.ipam.configs[0].subnet",
    },
    {
      name: "not a CIDR",
      method: "POST",
      path: "/v1/networks",
      body: { name: "bad2", ipam: { configs: [{ subnet: "300.1.2.0/24" }] } },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.ipam.configs[0].subnet",
    },
    {
      name: "gateway outside the subnet",
      method: "POST",
      path: "/v1/networks",
      body: { name: "bad3", ipam: { configs: [{ subnet: "172.40.0.0/16", gateway: "172.41.0.1" }] } },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.ipam.configs[0].gateway",
    },
    {
      name: "unknown field",
      method: "POST",
      path: "/v1/networks",
      body: { name: "bad4", colour: "blue" },
      status: 400,
      code: "VALIDATION_FAILED",
      location: "body.colour",
    },
    {
      name: "duplicate network name",
      method: "POST",
      path: "/v1/networks",
      body: { name: "my-net" },
      status: 409,
      code: "NAME_CONFLICT",
      location: "body.name",
    },
    {
      name: "overlapping subnet",
      method: "POST",
      path: "/v1/networks",
      body: { name: "bad5", ipam: { configs: [{ subnet: "172.18.128.0/24" }] } },
      status: 409,
      code: "SUBNET_OVERLAP",
      location: "body.ipam.configs[0].subnet",
    },
    {
      name: "static IP outside the subnet",
      method: "POST",
      path: "/v1/nodes",
      body: { name: "bad6", networks: [{ network: "my-net", ipv4Address: "10.1.2.3" }] },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.networks[0].ipv4Address",
    },
    {
      name: "static IP already taken",
      method: "POST",
      path: "/v1/nodes",
      body: { name: "bad7", networks: [{ network: "my-net", ipv4Address: "172.18.0.2" }] },
      status: 409,
      code: "ADDRESS_IN_USE",
      location: "body.networks[0].ipv4Address",
    },
    {
      name: "deleting a network with nodes",
      method: "DELETE",
      path: "/v1/networks/my-net",
      body: undefined,
      status: 409,
      code: "NETWORK_IN_USE",
      location: "path.networkId",
    },
    {
      name: "deleting the predefined bridge",
      method: "DELETE",
      path: "/v1/networks/bridge",
      body: undefined,
      status: 403,
      code: "FORBIDDEN",
      location: "path.networkId",
    },
  ];

  it.each(cases)("$name → $status $code at $location", (problemCase) =>
    expectProblemChangingNothing(labnet, rowCounts, problemCase),
  );
});

describe("concurrency", () => {
  it("gives 50 nodes created at once 50 distinct addresses, and builds them all", async () => {
    await labnet.waitingClient.POST("/v1/networks", { body: { name: "crowd" } });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        labnet.client.POST("/v1/nodes", { body: { name: `n${i}`, networkMode: "crowd" } }),
      ),
    );
    expect(results.map((r) => r.response.status)).toEqual(Array(50).fill(202));
    const addresses = results.map((r) => r.data?.networkSettings.networks.crowd?.ipAddress);
    expect(new Set(addresses).size).toBe(50);
    await waitForOperations(
      labnet,
      results.map((r) => r.data?.operation?.id ?? ""),
      120_000,
    );
    await expectHostMatchesDatabase(labnet, host.hostNetns);

    const deletes = await Promise.all(
      results.map((r) =>
        labnet.client.DELETE("/v1/nodes/{nodeId}", { params: { path: { nodeId: r.data?.id ?? "" } } }),
      ),
    );
    expect(deletes.map((d) => d.response.status)).toEqual(Array(50).fill(202));
    await waitForOperations(
      labnet,
      // A removal answers its operation.
      deletes.map((d) => d.data?.id ?? ""),
      120_000,
    );
    await expectHostMatchesDatabase(labnet, host.hostNetns);
  });
});
