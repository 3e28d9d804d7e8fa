/**
 * Issue 4 acceptance: published ports and the host port ledger, driven through the HTTP
 * API, built by a real executor in a simulated host, proven with real packets from the
 * host's `outside` namespace.
 */
import { registerHostWithDefaults } from "@labnet/commands";
import { schema } from "@labnet/db";
import { DEFAULT_ADDRESS_POOLS } from "@labnet/ipam";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually, labnetRules, waitForHostOnline, waitForOperations } from "../helpers/kernel-state";
import type { TestLabnet } from "../helpers/labnet";
import { createSimHost, execIn, netnsOf, type SimHost } from "../helpers/netns";
import { callPeer, startPeer } from "../helpers/peers";
import { readProblem } from "../helpers/problems";
import type { TestProcess } from "../helpers/processes";
import { countRows } from "../helpers/row-counts";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";

let labnet: TestLabnet;
let host: SimHost;
let executor: TestProcess;
let outside: string;
let uplink: string;

beforeAll(async () => {
  ({ labnet, host, executor } = await startSimHostLabnet("ph", 40));
  outside = host.outsideNetns ?? "";
  uplink = host.uplinkAddress ?? "";
});

afterAll(async () => {
  await labnet?.stop();
  await host?.destroy();
});

type PortSpec = string | { hostIp?: string; hostPort?: number | string; containerPort: number | string };

/** Creates a node on the host's default bridge with a listener on 80/tcp and 80/udp. */
async function createServed(
  name: string,
  body: { ports?: PortSpec[]; exposedPorts?: string[]; publishAll?: boolean } = {},
) {
  const res = await labnet.waitingClient.POST("/v1/nodes", { body: { name, host: host.hostNetns, ...body } });
  expect(res.error).toBeUndefined();
  expect(res.response.status).toBe(201);
  const node = res.data;
  if (!node) {
    throw new Error(`node ${name} missing`);
  }
  const netns = netnsOf(node.sandboxKey);
  await startPeer(netns, { tcpPort: 80, udpPort: 80, name: `peer-${name}` });
  return { node, netns, ip: node.networkSettings.networks.bridge?.ipAddress ?? "" };
}

const rowCounts = () =>
  countRows(labnet.db, { nodes: schema.nodes, ports: schema.portMappings, operations: schema.operations });

let web: Awaited<ReturnType<typeof createServed>>;

describe("-p hostPort:containerPort", () => {
  it("-p 8080:80 and 8080:80/udp: TCP and UDP from outside to the uplink address reach the node's listener", async () => {
    web = await createServed("web", { ports: ["8080:80", "8080:80/udp"] });
    expect(web.node.networkSettings.ports).toEqual({
      "80/tcp": [{ hostIp: "0.0.0.0", hostPort: "8080" }],
      "80/udp": [{ hostIp: "0.0.0.0", hostPort: "8080" }],
    });
    const tcp = await callPeer(outside, uplink, { protocol: "tcp", port: 8080 });
    // DNAT only: the node sees the real client.
    expect(tcp).toMatchObject({ protocol: "tcp", address: host.outsideAddress });
    const udp = await callPeer(outside, uplink, { protocol: "udp", port: 8080, data: "hi" });
    expect(udp).toMatchObject({ protocol: "udp", address: host.outsideAddress, data: "hi" });
  });

  it("answers on every address of the host, from outside and from the host, its loopback too", async () => {
    const gateway = web.node.networkSettings.networks.bridge?.gateway ?? "";
    // The outside world learns the way to the bridge (its own namespace, made by this test run).
    expect((await execIn(outside, ["ip", "route", "replace", "172.17.0.0/16", "via", uplink])).code).toBe(0);
    expect(await callPeer(outside, gateway, { port: 8080 })).toBeDefined();
    expect(await callPeer(host.hostNetns, uplink, { port: 8080 })).toBeDefined();
    // As Docker's: curl 127.0.0.1:8080 on the host (ports-loopback.test.ts has the details).
    expect(await callPeer(host.hostNetns, "127.0.0.1", { port: 8080 })).toBeDefined();
  });

  it("hairpin: the node reaches its own published port through the host's address", async () => {
    const reply = await callPeer(web.netns, uplink, { port: 8080 });
    // MASQUERADEd to the gateway: a packet from itself to itself would never find its way back.
    expect(reply?.address).toBe(web.node.networkSettings.networks.bridge?.gateway);
    const udp = await callPeer(web.netns, uplink, { protocol: "udp", port: 8080 });
    expect(udp).toBeDefined();
  });

  it("another node on the bridge reaches it through the host's address too", async () => {
    const other = await labnet.waitingClient.POST("/v1/nodes", {
      body: { name: "client", host: host.hostNetns },
    });
    const reply = await callPeer(netnsOf(other.data?.sandboxKey), uplink, { port: 8080 });
    expect(reply?.address).toBe(other.data?.networkSettings.networks.bridge?.ipAddress);
  });
});

describe("hairpin with icc off", () => {
  it("a node reaches its own published port while its neighbours cannot reach it directly", async () => {
    await labnet.waitingClient.POST("/v1/networks", {
      body: {
        name: "quiet",
        host: host.hostNetns,
        options: { icc: false },
        ipam: { configs: [{ subnet: "10.44.0.0/24" }] },
      },
    });
    const res = await labnet.waitingClient.POST("/v1/nodes", {
      body: { name: "loner", host: host.hostNetns, networkMode: "quiet", ports: ["8090:80"] },
    });
    expect(res.response.status).toBe(201);
    const netns = netnsOf(res.data?.sandboxKey);
    await startPeer(netns, { tcpPort: 80, name: "peer-loner" });
    const neighbour = await labnet.waitingClient.POST("/v1/nodes", {
      body: { name: "neighbour", host: host.hostNetns, networkMode: "quiet" },
    });
    const neighbourNetns = netnsOf(neighbour.data?.sandboxKey);

    expect(await callPeer(netns, uplink, { port: 8090 })).toMatchObject({ address: "10.44.0.1" });
    // The neighbour reaches the node's service through the published port, not directly.
    expect(await callPeer(neighbourNetns, uplink, { port: 8090 })).toMatchObject({ address: "10.44.0.3" });
    expect(await callPeer(neighbourNetns, "10.44.0.2", { port: 80, timeoutMs: 1_500 })).toBeUndefined();
  });
});

describe("-p hostIP:hostPort:containerPort", () => {
  it("a host address answers on that address only; 127.0.0.1 only to the host itself", async () => {
    const bound = await createServed("bound", { ports: [`${uplink}:8081:80`, "127.0.0.1:8082:80"] });
    const gateway = bound.node.networkSettings.networks.bridge?.gateway ?? "";

    expect(await callPeer(outside, uplink, { port: 8081 })).toMatchObject({ address: host.outsideAddress });
    expect(await callPeer(outside, gateway, { port: 8081, timeoutMs: 1_500 })).toBeUndefined();
    expect(await callPeer(host.hostNetns, uplink, { port: 8081 })).toBeDefined();
    expect(await callPeer(host.hostNetns, gateway, { port: 8081, timeoutMs: 1_500 })).toBeUndefined();

    expect(await callPeer(outside, uplink, { port: 8082, timeoutMs: 1_500 })).toBeUndefined();
    expect(await callPeer(outside, gateway, { port: 8082, timeoutMs: 1_500 })).toBeUndefined();
    expect(await callPeer(web.netns, gateway, { port: 8082, timeoutMs: 1_500 })).toBeUndefined();
    expect(await callPeer(host.hostNetns, "127.0.0.1", { port: 8082 })).toBeDefined();

    // What makes the loopback mapping work, and keeps nodes off the host's loopback.
    const bridge = (
      await labnet.client.GET("/v1/networks/{networkId}", { params: { path: { networkId: "bridge" } } })
    ).data?.options.bridgeName;
    const sysctl = await execIn(host.hostNetns, ["sysctl", "-n", `net.ipv4.conf.${bridge}.route_localnet`]);
    expect(sysctl.stdout.trim()).toBe("1");
    const raw = (await execIn(host.hostNetns, ["iptables-save", "-t", "raw"])).stdout.split("\n");
    expect(raw.filter((line) => line === "-A PREROUTING -j LABNET-RAW")).toHaveLength(1);
    expect(raw).toContain(`-A LABNET-RAW -d 127.0.0.0/8 -i ${bridge} -j DROP`);
  });
});

describe("random host ports", () => {
  it("-p 0:80, -p 80/udp and publishAll answer with the drawn ports, which work", async () => {
    const rnd = await createServed("rnd", {
      ports: ["0:80", { containerPort: 80, protocol: "udp" } as PortSpec],
      exposedPorts: ["80/tcp", "443/tcp", "53/udp"],
      publishAll: true,
    });
    const ports = rnd.node.networkSettings.ports;
    expect(Object.keys(ports)).toEqual(["53/udp", "80/tcp", "80/udp", "443/tcp"]);
    const drawn = Object.values(ports).map((bindings) => Number(bindings?.[0]?.hostPort));
    for (const port of drawn) {
      expect(port).toBeGreaterThanOrEqual(32768);
      expect(port).toBeLessThanOrEqual(60999);
    }
    const tcp = Number(ports["80/tcp"]?.[0]?.hostPort);
    const udp = Number(ports["80/udp"]?.[0]?.hostPort);
    expect(await callPeer(outside, uplink, { port: tcp })).toMatchObject({ address: host.outsideAddress });
    expect(await callPeer(outside, uplink, { protocol: "udp", port: udp })).toBeDefined();

    const listed = await labnet.client.GET("/v1/nodes/{nodeId}/ports", {
      params: { path: { nodeId: "rnd" }, query: { containerPort: 80, protocol: "tcp" } },
    });
    expect(listed.data?.items.map((m) => [m.display, m.random])).toEqual([
      [`80/tcp -> 0.0.0.0:${tcp}`, true],
    ]);
  });
});

describe("collisions", () => {
  it("a second node asking for 8080/tcp gets 409 PORT_IN_USE naming the first, and nothing changes", async () => {
    const before = await rowCounts();
    const rulesBefore = await labnetRules(host.hostNetns);
    const res = await labnet.request("POST", "/v1/nodes", {
      body: { name: "dup", host: host.hostNetns, ports: ["9999:80", "8080:80"] },
    });
    expect(res.status).toBe(409);
    const problem = await readProblem(res);
    expect(problem.code).toBe("PORT_IN_USE");
    expect(problem.detail).toContain("node web");
    expect(problem.detail).toContain("0.0.0.0:8080->80/tcp");
    expect(problem.errors).toEqual([
      { location: "body.ports[1]", message: expect.stringContaining("node web") },
    ]);
    expect(await rowCounts()).toEqual(before);
    expect(await labnetRules(host.hostNetns)).toEqual(rulesBefore);
  });

  it("8080/udp next to 8080/tcp is fine; 0.0.0.0 blocks one address and the reverse; two addresses do not collide", async () => {
    const post = (name: string, ports: PortSpec[]) =>
      labnet.request("POST", "/v1/nodes", { body: { name, host: host.hostNetns, ports } });
    expect((await post("t9000", ["9000:80"])).status).toBe(202);
    expect((await post("u9000", ["9000:80/udp"])).status).toBe(202);

    expect((await post("any9090", ["9090:80"])).status).toBe(202);
    const blocked = await post("one9090", ["10.9.8.7:9090:80"]);
    expect(blocked.status).toBe(409);
    expect((await readProblem(blocked)).detail).toContain("node any9090");

    expect((await post("one9091", ["10.9.8.7:9091:80"])).status).toBe(202);
    expect((await post("two9091", [{ hostIp: "10.9.8.6", hostPort: 9091, containerPort: 80 }])).status).toBe(
      202,
    );
    const reverse = await post("any9091", ["9091:80"]);
    expect(reverse.status).toBe(409);
    expect((await readProblem(reverse)).detail).toMatch(/node (one|two)9091/);
  });

  it("a malformed spec is a 422 naming the entry; a structured one names the field", async () => {
    const bad = await labnet.request("POST", "/v1/nodes", {
      body: { name: "bad", host: host.hostNetns, ports: ["8080:80", "8000-8005:80-82"] },
    });
    expect(bad.status).toBe(422);
    expect((await readProblem(bad)).errors).toEqual([
      { location: "body.ports[1]", message: expect.stringContaining("invalid ranges") },
    ]);
    const field = await labnet.request("POST", "/v1/nodes", {
      body: { name: "bad", host: host.hostNetns, ports: [{ containerPort: 80, hostIp: "300.1.1.1" }] },
    });
    expect(field.status).toBe(422);
    expect((await readProblem(field)).errors?.[0]?.location).toBe("body.ports[0].hostIp");
    const none = await labnet.request("POST", "/v1/nodes", {
      body: { name: "bad", host: host.hostNetns, networkMode: "none", ports: ["80"] },
    });
    expect(none.status).toBe(422);
  });
});

describe("concurrency", () => {
  it("200 concurrent requests for random ports on one host get 200 distinct ports", async () => {
    // The ledger alone decides this, so the host is one without an executor: 200 sandboxes
    // built one converge at a time would take minutes and prove nothing more. Registered
    // with the command the executor itself uses.
    const paper = await registerHostWithDefaults({
      ctx: { db: labnet.db, addressPools: DEFAULT_ADDRESS_POOLS, defaultMtu: 1500 },
      input: {
        name: `${inject("runPrefix")}paper`,
        netnsPrefix: `${inject("runPrefix")}paper-`,
        underlayAddress: null,
        capabilities: { linkTypes: ["bridge", "veth"], drivers: ["bridge"], iptables: true },
      },
    });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        labnet.client.POST("/v1/nodes", { body: { name: `r${i}`, host: paper.name, ports: ["80"] } }),
      ),
    );
    expect(results.map((r) => r.response.status)).toEqual(Array(200).fill(202));
    const ports = results.map((r) => Number(r.data?.networkSettings.ports["80/tcp"]?.[0]?.hostPort));
    expect(new Set(ports).size).toBe(200);
    expect(ports.every((p) => p >= 32768 && p <= 60999)).toBe(true);
    // Random among the free ports, not the next in sequence.
    const sorted = [...ports].sort((a, b) => a - b);
    expect(sorted.filter((p, i) => i > 0 && p === (sorted[i - 1] ?? 0) + 1).length).toBeLessThan(20);
    const ledger = await labnet.client.GET("/v1/hosts/{hostId}/ports", {
      params: { path: { hostId: paper.id } },
    });
    expect(ledger.data?.items.map((m) => m.hostPort).sort((a, b) => a - b)).toEqual(sorted);
  });

  it("a small configured range that runs out answers 409 PORT_RANGE_EXHAUSTED, not a hang or a duplicate", async () => {
    const small = await createSimHost(inject("runPrefix"), "ps", { index: 41 });
    try {
      labnet.startExecutor(small.hostNetns, { LABNET_PORT_RANGE: "49000-49004" });
      const registered = await waitForHostOnline(labnet, small.hostNetns);
      expect(registered.portRange).toEqual({ start: 49000, end: 49004 });
      const started = Date.now();
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          labnet.request("POST", "/v1/nodes", {
            body: { name: `s${i}`, host: small.hostNetns, ports: ["80"] },
          }),
        ),
      );
      expect(Date.now() - started).toBeLessThan(15_000);
      const ok = results.filter((r) => r.status === 202);
      const refused = results.filter((r) => r.status === 409);
      const other = results.filter((r) => r.status !== 202 && r.status !== 409);
      expect(await Promise.all(other.map((r) => r.text()))).toEqual([]);
      expect(ok).toHaveLength(5);
      expect(refused).toHaveLength(7);
      const problem = await readProblem(refused[0] as Response);
      expect(problem.code).toBe("PORT_RANGE_EXHAUSTED");
      expect(problem.detail).toContain("49000-49004");
      const ledger = await labnet.client.GET("/v1/hosts/{hostId}/ports", {
        params: { path: { hostId: small.hostNetns } },
      });
      expect(ledger.data?.items.map((m) => m.hostPort).sort()).toEqual([49000, 49001, 49002, 49003, 49004]);
      const ops = await Promise.all(
        ok.map(async (r) => ((await r.json()) as { operation: { id: string } }).operation.id),
      );
      await waitForOperations(labnet, ops);
    } finally {
      await small.destroy();
    }
  });
});

describe("publishing later and removing", () => {
  it("POST /ports adds a mapping that works; DELETE /ports removes exactly its rules", async () => {
    const rulesBefore = await labnetRules(host.hostNetns);
    const added = await labnet.waitingClient.POST("/v1/nodes/{nodeId}/ports", {
      params: { path: { nodeId: "web" } },
      body: { ports: ["8085:80"] },
    });
    expect(added.response.status).toBe(201);
    expect(added.data?.operation?.state).toBe("succeeded");
    expect(added.data?.items.map((m) => m.display)).toContain("80/tcp -> 0.0.0.0:8085");
    expect(await callPeer(outside, uplink, { port: 8085 })).toBeDefined();

    const removed = await labnet.request("DELETE", "/v1/nodes/web/ports?hostPort=8085", {
      headers: { prefer: "wait=60" },
    });
    expect(removed.status).toBe(204);
    expect(await callPeer(outside, uplink, { port: 8085, timeoutMs: 1_500 })).toBeUndefined();
    expect(await labnetRules(host.hostNetns)).toEqual(rulesBefore);
    expect(await callPeer(outside, uplink, { port: 8080 })).toBeDefined();
    // Many converges later, every hook is still there once.
    const save = (await execIn(host.hostNetns, ["iptables-save"])).stdout.split("\n");
    for (const hook of [
      "-A PREROUTING -j LABNET-RAW",
      "-A PREROUTING -j LABNET-PREROUTING",
      "-A OUTPUT -j LABNET-OUTPUT",
    ]) {
      expect(save.filter((line) => line === hook)).toHaveLength(1);
    }
  });

  it("the host's ledger lists every mapping, with filters", async () => {
    const ledger = await labnet.client.GET("/v1/hosts/{hostId}/ports", {
      params: { path: { hostId: host.hostNetns }, query: { node: "web" } },
    });
    expect(ledger.data?.portRange).toEqual({ start: 32768, end: 60999 });
    expect(ledger.data?.items.map((m) => m.display)).toEqual([
      "80/tcp -> 0.0.0.0:8080",
      "80/udp -> 0.0.0.0:8080",
    ]);
    const udp = await labnet.client.GET("/v1/hosts/{hostId}/ports", {
      params: { path: { hostId: host.hostNetns }, query: { protocol: "udp", hostPort: 8080 } },
    });
    expect(udp.data?.items.map((m) => m.nodeName)).toEqual(["web"]);
  });
});

describe("lifetime", () => {
  it("ports stay the same when the executor restarts and the host's rules were lost", async () => {
    const before = await labnet.client.GET("/v1/nodes/{nodeId}/ports", {
      params: { path: { nodeId: "rnd" } },
    });
    await executor.stop();
    // The kernel forgets Labnet's published ports (a host restart loses every rule).
    expect((await execIn(host.hostNetns, ["iptables", "-t", "nat", "-F", "LABNET-DNAT"])).code).toBe(0);
    expect(await callPeer(outside, uplink, { port: 8080, timeoutMs: 1_500 })).toBeUndefined();
    executor = labnet.startExecutor(host.hostNetns);
    await eventually(
      async () => ((await callPeer(outside, uplink, { port: 8080, timeoutMs: 1_000 })) ? true : undefined),
      60_000,
      "the restarted executor to restore the rules",
    );
    const after = await labnet.client.GET("/v1/nodes/{nodeId}/ports", {
      params: { path: { nodeId: "rnd" } },
    });
    expect(after.data?.items).toEqual(before.data?.items);
    const tcp = after.data?.items.find((m) => m.protocol === "tcp" && m.containerPort === 80)?.hostPort ?? 0;
    expect(await callPeer(outside, uplink, { port: tcp })).toBeDefined();
  });

  it("deleting the node frees its ports (a new node takes them) and leaves no rule of its", async () => {
    const del = await labnet.waitingClient.DELETE("/v1/nodes/{nodeId}", {
      params: { path: { nodeId: "web" } },
    });
    expect(del.response.status).toBe(204);
    const rules = (await labnetRules(host.hostNetns)).join("\n");
    expect(rules).not.toContain(`${web.ip}:80`);
    expect(rules).not.toContain(`${web.ip}/32`);
    expect(rules).not.toContain("--dport 8080 ");
    expect(await callPeer(outside, uplink, { port: 8080, timeoutMs: 1_500 })).toBeUndefined();
    const [left] = await labnet.db
      .select({ n: count() })
      .from(schema.portMappings)
      .where(eq(schema.portMappings.nodeId, web.node.id));
    expect(left?.n).toBe(0);

    const web2 = await createServed("web2", { ports: ["8080:80"] });
    expect(await callPeer(outside, uplink, { port: 8080 })).toMatchObject({ address: host.outsideAddress });
    expect(web2.node.networkSettings.ports["80/tcp"]).toEqual([{ hostIp: "0.0.0.0", hostPort: "8080" }]);
  });
});
