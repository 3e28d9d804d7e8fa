/**
 * Issue 9, deliverable 2 (executor side): grading probes run for real inside the nodes. A real
 * executor in a simulated host answers `host.probe` jobs sent through `HostProber` over the
 * run's Redis: ICMP, TCP and UDP between nodes (a listener started in the target for the probe),
 * isolation between networks that blocks, names resolved through the node's own resolver, and a
 * published port answering the lab host itself. Every result carries its command and output.
 */
import { once } from "node:events";
import type { components } from "@labnet/api";
import {
  createRedisConnection,
  HostProbeError,
  HostProber,
  HostQueues,
  type Probe,
  type ProbeResult,
} from "@labnet/queue";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { TestLabnet } from "../helpers/labnet";
import { execIn, netnsOf, type SimHost } from "../helpers/netns";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";

let labnet: TestLabnet;
let host: SimHost;
let redis: Redis;
let queues: HostQueues;
let prober: HostProber;
let labHost: { id: string; parentHostId: string | null };

interface Started {
  netns: string;
  address: string;
}
let pr1: Started;
let pr2: Started;
let pr3: Started;
let web: Started;

async function createNetwork(name: string, subnet: string): Promise<void> {
  const res = await labnet.waitingClient.POST("/v1/networks", {
    body: { name, ipam: { configs: [{ subnet }] } },
  });
  expect(res.response.status, JSON.stringify(res.error)).toBe(201);
}

async function createNode(body: components["schemas"]["CreateNodeRequest"]): Promise<Started> {
  const res = await labnet.waitingClient.POST("/v1/nodes", { body });
  expect(res.response.status, JSON.stringify(res.error)).toBe(201);
  const node = res.data;
  const network = String(body.networkMode);
  const address = node?.networkSettings.networks[network]?.ipAddress ?? "";
  expect(address).not.toBe("");
  return { netns: netnsOf(node?.sandboxKey), address };
}

beforeAll(async () => {
  ({ labnet, host } = await startSimHostLabnet("pr", 72));
  redis = createRedisConnection(inject("redisUrl"), "producer");
  await once(redis, "ready");
  queues = new HostQueues(redis, labnet.queuePrefix);
  prober = new HostProber(queues, redis, labnet.queuePrefix);
  const hostRow = await labnet.client.GET("/v1/hosts/{hostId}", {
    params: { path: { hostId: host.hostNetns } },
  });
  labHost = { id: hostRow.data?.id ?? "", parentHostId: null };

  await createNetwork("pr-net", "172.30.72.0/24");
  await createNetwork("pr-iso", "172.30.73.0/24");
  pr1 = await createNode({ name: "pr1", networkMode: "pr-net" });
  pr2 = await createNode({ name: "pr2", networkMode: "pr-net" });
  pr3 = await createNode({ name: "pr3", networkMode: "pr-iso" });
  web = await createNode({ name: "pr-web", networkMode: "pr-net", ports: ["8080:80"] });
});

afterAll(async () => {
  await prober?.close();
  await queues?.close();
  redis?.disconnect();
  await labnet?.stop();
  await host?.destroy();
});

function from(node: Started): Probe["from"] {
  return { netns: node.netns };
}

async function probeAll(probes: Probe[]): Promise<Map<string, ProbeResult>> {
  const results = await prober.probe(labHost, probes, 30_000);
  expect(results.map((r) => r.id)).toEqual(probes.map((p) => p.id));
  for (const result of results) {
    expect(result.command, result.id).not.toBe("");
    expect(result.output, result.id).not.toBe("");
    expect(result.ms, result.id).toBeGreaterThanOrEqual(0);
  }
  return new Map(results.map((r) => [r.id, r]));
}

describe("host.probe", () => {
  it("proves reachability, isolation, listeners, names and a published port by real packets", async () => {
    const started = Date.now();
    const results = await probeAll([
      { id: "icmp-reach", kind: "icmp", from: from(pr1), target: pr2.address, timeoutMs: 2_000 },
      { id: "icmp-isolated", kind: "icmp", from: from(pr1), target: pr3.address, timeoutMs: 1_000 },
      { id: "icmp-isolated-short", kind: "icmp", from: from(pr1), target: pr3.address, timeoutMs: 300 },
      { id: "icmp-by-name", kind: "icmp", from: from(pr1), target: "pr2", timeoutMs: 2_000 },
      {
        id: "tcp-reach",
        kind: "tcp",
        from: from(pr1),
        target: pr2.address,
        port: 80,
        listenIn: pr2.netns,
        timeoutMs: 2_000,
      },
      {
        id: "tcp-isolated",
        kind: "tcp",
        from: from(pr1),
        target: pr3.address,
        port: 80,
        listenIn: pr3.netns,
        timeoutMs: 1_000,
      },
      {
        id: "tcp-no-listener",
        kind: "tcp",
        from: from(pr1),
        target: pr2.address,
        port: 81,
        timeoutMs: 1_000,
      },
      {
        id: "udp-reach",
        kind: "udp",
        from: from(pr1),
        target: "pr2",
        port: 9999,
        listenIn: pr2.netns,
        timeoutMs: 2_000,
      },
      {
        id: "udp-isolated",
        kind: "udp",
        from: from(pr1),
        target: pr3.address,
        port: 9999,
        listenIn: pr3.netns,
        timeoutMs: 1_000,
      },
      { id: "resolve", kind: "resolve", from: from(pr1), target: "pr2", timeoutMs: 2_000 },
      { id: "resolve-dotted", kind: "resolve", from: from(pr2), target: "pr1.pr-net", timeoutMs: 2_000 },
      { id: "resolve-other-net", kind: "resolve", from: from(pr1), target: "pr3", timeoutMs: 2_000 },
      {
        id: "published",
        kind: "tcp",
        from: { labHost: true },
        target: host.uplinkAddress ?? "",
        port: 8080,
        listenIn: web.netns,
        listenPort: 80,
        timeoutMs: 2_000,
      },
    ]);
    const result = (id: string): ProbeResult => {
      const r = results.get(id);
      if (!r) {
        throw new Error(`no result ${id}`);
      }
      return r;
    };

    expect(result("icmp-reach")).toMatchObject({
      ok: true,
      address: pr2.address,
      command: `ip netns exec ${pr1.netns} ping -n -c 1 -W 2 ${pr2.address}`,
    });
    expect(result("icmp-reach").output).toContain("1 received");
    expect(result("icmp-isolated")).toMatchObject({ ok: false, address: pr3.address });
    expect(result("icmp-isolated").output).toContain("0 received");
    // A time limit under a second is the wait (ping -W takes fractions): not rounded up to 1 s.
    expect(result("icmp-isolated-short")).toMatchObject({
      ok: false,
      command: `ip netns exec ${pr1.netns} ping -n -c 1 -W 0.3 ${pr3.address}`,
    });
    expect(result("icmp-isolated-short").output).toContain("0 received");
    expect(result("icmp-isolated-short").ms).toBeLessThan(900);
    expect(result("icmp-by-name")).toMatchObject({ ok: true, address: pr2.address });

    expect(result("tcp-reach")).toMatchObject({
      ok: true,
      command: `ip netns exec ${pr1.netns} nc -n -v -z -w 2 ${pr2.address} 80`,
    });
    expect(result("tcp-reach").output).toContain(`listener: ip netns exec ${pr2.netns} nc -l -k -d -n 80`);
    expect(result("tcp-reach").output).toContain("succeeded");
    expect(result("tcp-isolated").ok).toBe(false);
    expect(result("tcp-isolated").output).toContain(`listener: ip netns exec ${pr3.netns}`);
    expect(result("tcp-no-listener").ok).toBe(false);
    expect(result("tcp-no-listener").output).toMatch(/refused/i);

    expect(result("udp-reach")).toMatchObject({
      ok: true,
      command: `ip netns exec ${pr1.netns} nc -u -v -w 1 pr2 9999`,
    });
    expect(result("udp-reach").output).toMatch(/sent labnet-probe-[0-9a-f]{16}; the listener received it/);
    expect(result("udp-isolated").ok).toBe(false);
    expect(result("udp-isolated").output).toContain("the listener received nothing");

    expect(result("resolve")).toMatchObject({
      ok: true,
      address: pr2.address,
      command: `ip netns exec ${pr1.netns} getent ahostsv4 pr2`,
    });
    expect(result("resolve").output).toContain(pr2.address);
    expect(result("resolve-dotted")).toMatchObject({ ok: true, address: pr1.address });
    expect(result("resolve-other-net").ok).toBe(false);
    expect(result("resolve-other-net").output).toContain("pr3: not found");

    expect(result("published")).toMatchObject({
      ok: true,
      command: `nc -n -v -z -w 2 ${host.uplinkAddress} 8080`,
    });
    expect(result("published").output).toContain(`listener: ip netns exec ${web.netns} nc -l -k -d -n 80`);
    // In parallel: far less than the sum of the probes' time limits (19 s).
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("leaves no listener behind and serializes probes that share one", async () => {
    const probes: Probe[] = Array.from({ length: 4 }, (_, i) => ({
      id: `same-${i}`,
      kind: "tcp",
      from: from(pr1),
      target: pr2.address,
      port: 7000,
      listenIn: pr2.netns,
      timeoutMs: 2_000,
    }));
    const results = await probeAll(probes);
    expect([...results.values()].map((r) => r.ok)).toEqual([true, true, true, true]);
    const listening = await execIn(pr2.netns, ["ss", "-Htlnu"]);
    expect(listening.stdout).not.toMatch(/:(7000|80|9999)\s/);
  });

  it("fails only the probe whose namespace is gone, and refuses namespaces the lab host does not serve", async () => {
    const [gone] = await prober.probe(
      labHost,
      [
        {
          id: "gone",
          kind: "icmp",
          from: { netns: `${host.hostNetns}-aaaaaaaaaaaaaaaa` },
          target: pr2.address,
          timeoutMs: 1_000,
        },
      ],
      15_000,
    );
    expect(gone).toMatchObject({ id: "gone", ok: false });
    expect(gone?.output).toContain("no such namespace");

    const outside = host.outsideNetns ?? "";
    const refused = prober.probe(
      labHost,
      [
        {
          id: "x",
          kind: "icmp",
          from: { netns: outside },
          target: host.uplinkAddress ?? "",
          timeoutMs: 1_000,
        },
      ],
      15_000,
    );
    await expect(refused).rejects.toBeInstanceOf(HostProbeError);
    await expect(refused).rejects.toMatchObject({ failure: "failed" });
    await expect(refused).rejects.toThrow(/does not serve/);
  });

  it("runs in a virtual machine's namespace and its nodes, routed to the lab host's queue", async () => {
    const machineRes = await labnet.waitingClient.POST("/v1/machines", {
      body: { name: "pr-bdc01", hostname: "bdc01", lan: "pr-lan", address: "10.0.0.11" },
    });
    expect(machineRes.response.status, JSON.stringify(machineRes.error)).toBe(201);
    const machine = machineRes.data;
    const machineNs = netnsOf(machine?.netnsPath ?? undefined);
    const net = await labnet.waitingClient.POST("/v1/networks", {
      body: { name: "my-net", host: "pr-bdc01" },
    });
    expect(net.response.status, JSON.stringify(net.error)).toBe(201);
    const m1 = await createNode({ name: "centos1", host: "pr-bdc01", networkMode: "my-net" });
    const m2 = await createNode({ name: "centos2", host: "pr-bdc01", networkMode: "my-net" });
    const target = { id: machine?.id ?? "", parentHostId: labHost.id };
    const probes: Probe[] = [
      { id: "m-icmp", kind: "icmp", from: from(m1), target: m2.address, timeoutMs: 2_000 },
      {
        id: "m-tcp-from-machine",
        kind: "tcp",
        from: { netns: machineNs },
        target: m2.address,
        port: 22,
        listenIn: m2.netns,
        timeoutMs: 2_000,
      },
      { id: "m-from-lab-host", kind: "icmp", from: { labHost: true }, target: "10.0.0.11", timeoutMs: 2_000 },
    ];
    const results = await prober.probe(target, probes, 30_000);
    expect(results.map((r) => [r.id, r.ok])).toEqual([
      ["m-icmp", true],
      ["m-tcp-from-machine", true],
      ["m-from-lab-host", true],
    ]);
    expect(results[1]?.command).toBe(`ip netns exec ${machineNs} nc -n -v -z -w 2 ${m2.address} 22`);
    // The machine's name service may take a moment after the node is ready.
    let resolved: ProbeResult | undefined;
    for (let i = 0; i < 20 && !resolved?.ok; i++) {
      [resolved] = await prober.probe(
        target,
        [{ id: "m-resolve", kind: "resolve", from: from(m1), target: "centos2", timeoutMs: 2_000 }],
        15_000,
      );
      if (!resolved?.ok) {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    expect(resolved).toMatchObject({ ok: true, address: m2.address });
  });

  it("refuses hostile probes before they reach a queue", async () => {
    const hostile = [
      { id: "h1", kind: "icmp", from: from(pr1), target: "-f", timeoutMs: 1_000 },
      { id: "h2", kind: "resolve", from: { netns: "../../proc/1/ns/net" }, target: "pr2", timeoutMs: 1_000 },
      { id: "h3", kind: "tcp", from: from(pr1), target: "pr2;id", port: 80, timeoutMs: 1_000 },
    ] as Probe[];
    for (const probe of hostile) {
      await expect(prober.probe(labHost, [probe], 5_000)).rejects.toThrow();
    }
  });
});
