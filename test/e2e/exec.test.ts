/**
 * Issue 10, deliverables 1 and 2: diagnostics exec and the kernel truth of a node, against a
 * real executor in a simulated host. Commands run inside the node's (or machine's) namespace and
 * answer with their output; a command past its time limit is killed and says so; output past the
 * limit is cut and says so; with `Accept: text/event-stream` lines arrive before the end. A
 * node's kernel view matches `ip -j addr` inside it, and a veth deleted behind Labnet's back is
 * drift.
 */
import type { components } from "@labnet/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestLabnet } from "../helpers/labnet";
import { execIn, netnsOf, type SimHost } from "../helpers/netns";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";

type ExecResult = components["schemas"]["ExecResult"];
type Node = components["schemas"]["Node"];

let labnet: TestLabnet;
let host: SimHost;
let web: Node;
let cli: Node;

beforeAll(async () => {
  ({ labnet, host } = await startSimHostLabnet("ex", 74));
  const network = await labnet.waitingClient.POST("/v1/networks", {
    body: { name: "ex-net", ipam: { configs: [{ subnet: "172.29.74.0/24" }] } },
  });
  expect(network.response.status).toBe(201);
  web = await createNode("ex-web");
  cli = await createNode("ex-cli");
}, 120_000);

afterAll(async () => {
  await labnet?.stop();
  await host?.destroy();
});

async function createNode(name: string, networkMode = "ex-net"): Promise<Node> {
  const res = await labnet.waitingClient.POST("/v1/nodes", { body: { name, networkMode } });
  expect(res.response.status, JSON.stringify(res.error)).toBe(201);
  if (!res.data) {
    throw new Error("no node");
  }
  return res.data;
}

async function exec(path: string, argv: string[], timeoutMs?: number): Promise<ExecResult> {
  const res = await labnet.request("POST", path, { body: { argv, ...(timeoutMs ? { timeoutMs } : {}) } });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body as ExecResult;
}

describe("POST /v1/nodes/{nodeId}/exec", () => {
  it("pings another node by name and returns the output", async () => {
    const result = await exec("/v1/nodes/ex-cli/exec", ["ping", "-c1", "ex-web"]);
    expect(result).toMatchObject({
      argv: ["ping", "-c1", "ex-web"],
      exitCode: 0,
      timedOut: false,
      truncated: false,
    });
    const address = web.networkSettings.networks["ex-net"]?.ipAddress;
    expect(result.stdout).toContain(`PING ex-web (${address})`);
    expect(result.stdout).toMatch(/64 bytes from /);
    expect(result.stdout).toContain("1 received");
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("sees the node's own addresses and resolver", async () => {
    const result = await exec("/v1/nodes/ex-cli/exec", ["ip", "-j", "addr", "show", "dev", "eth0"]);
    expect(result.exitCode).toBe(0);
    const address = cli.networkSettings.networks["ex-net"]?.ipAddress;
    expect(result.stdout).toContain(`"local":"${address}"`);
    const names = await exec("/v1/nodes/ex-cli/exec", ["getent", "hosts", "ex-web"]);
    expect(names.stdout).toContain(web.networkSettings.networks["ex-net"]?.ipAddress ?? "?");
  });

  it("kills a command past its time limit and says so", async () => {
    const started = Date.now();
    const result = await exec("/v1/nodes/ex-cli/exec", ["ping", "-c", "20", "-i", "0.2", "ex-web"], 1_000);
    expect(result).toMatchObject({ timedOut: true, exitCode: null });
    expect(result.durationMs).toBeGreaterThanOrEqual(900);
    expect(result.durationMs).toBeLessThan(3_000);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(result.stdout).toContain("bytes from");
  });

  it("cuts output past 64 KiB and says so", async () => {
    const big = await createNode("ex-big");
    const netns = netnsOf(big.sandboxKey);
    const batch = Array.from(
      { length: 100 },
      (_, i) => `link add exb${i}a type veth peer name exb${i}b`,
    ).join("\n");
    const added = await execIn(netns, ["ip", "-batch", "-"], { input: `${batch}\n` });
    expect(added.code, added.stderr).toBe(0);
    const result = await exec("/v1/nodes/ex-big/exec", ["ip", "-d", "-s", "-s", "link", "show"]);
    expect(result.truncated).toBe(true);
    expect(Buffer.byteLength(result.stdout)).toBe(64 * 1024);
    expect(result.exitCode).toBe(0);
  });

  it("streams lines as Server-Sent Events before the end", async () => {
    const res = await labnet.request("POST", "/v1/nodes/ex-cli/exec", {
      body: { argv: ["ping", "-c", "4", "-i", "0.5", "ex-web"] },
      headers: { accept: "text/event-stream" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events: { event: string; data: string; at: number }[] = [];
    const reader = res.body?.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { done, value } = (await reader?.read()) ?? { done: true, value: undefined };
      if (done) {
        break;
      }
      buffer += value;
      let cut = buffer.indexOf("\n\n");
      while (cut >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = [...block.matchAll(/^data: ?(.*)$/gm)].map((m) => m[1]).join("\n");
        events.push({ event, data, at: Date.now() });
        cut = buffer.indexOf("\n\n");
      }
    }
    const exit = events.find((e) => e.event === "exit");
    expect(exit, JSON.stringify(events)).toBeDefined();
    const result = JSON.parse(exit?.data ?? "{}") as ExecResult;
    expect(result.exitCode).toBe(0);
    const stdout = events.filter((e) => e.event === "stdout");
    expect(stdout.filter((e) => e.data.includes("bytes from"))).toHaveLength(4);
    // The first reply arrived well before the command ended (4 replies 0.5 s apart).
    const firstReply = stdout.find((e) => e.data.includes("bytes from"));
    expect((exit?.at ?? 0) - (firstReply?.at ?? 0)).toBeGreaterThan(1_000);
    expect(stdout.map((e) => e.data).join("\n")).toContain(result.stdout.split("\n")[1] ?? "?");
  });

  it("refuses commands with a 422 naming the argument and runs nothing", async () => {
    const res = await labnet.request("POST", "/v1/nodes/ex-cli/exec", { body: { argv: ["ping", "$(id)"] } });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as { errors: { location: string }[] };
    expect(problem.errors.map((e) => e.location)).toEqual(["body.argv[1]"]);
  });
});

describe("POST /v1/machines/{machineId}/exec", () => {
  it("shows a virtual machine's MASQUERADE with iptables -t nat -nL", async () => {
    const machine = await labnet.waitingClient.POST("/v1/machines", {
      body: { name: "ex-vm", hostname: "exvm", lan: "ex-lan" },
    });
    expect(machine.response.status, JSON.stringify(machine.error)).toBe(201);
    const result = await exec("/v1/machines/ex-vm/exec", ["iptables", "-t", "nat", "-nL"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("MASQUERADE");
    expect(result.stdout).toContain("172.17.0.0/16");
    const route = await exec("/v1/machines/ex-vm/exec", ["ip", "route"]);
    expect(route.stdout).toContain("172.17.0.0/16");
  }, 120_000);

  it("runs in the lab host's own namespace for a lab host", async () => {
    const result = await exec(`/v1/machines/${host.hostNetns}/exec`, [
      "ip",
      "-j",
      "link",
      "show",
      "dev",
      "uplink0",
    ]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('"ifname":"uplink0"');
  });
});

describe("GET /v1/nodes/{nodeId}/kernel", () => {
  it("matches ip -j addr inside the node, with routes, neighbours and resolver files", async () => {
    const res = await labnet.client.GET("/v1/nodes/{nodeId}/kernel", {
      params: { path: { nodeId: "ex-cli" } },
    });
    expect(res.response.status, JSON.stringify(res.error)).toBe(200);
    const view = res.data;
    if (!view) {
      throw new Error("no view");
    }
    const inside = JSON.parse((await execIn(netnsOf(cli.sandboxKey), ["ip", "-j", "addr"])).stdout) as {
      ifname: string;
      address?: string;
      mtu: number;
      addr_info: { family: string; local: string; prefixlen: number }[];
    }[];
    expect(view.interfaces.map((i) => i.name)).toEqual(inside.map((l) => l.ifname));
    for (const link of inside) {
      const shown = view.interfaces.find((i) => i.name === link.ifname);
      expect(shown?.mtu).toBe(link.mtu);
      if (link.ifname !== "lo") {
        expect(shown?.mac).toBe(link.address);
      }
      expect(shown?.addresses.map((a) => `${a.address}/${a.prefixLength}`)).toEqual(
        link.addr_info.map((a) => `${a.local}/${a.prefixlen}`),
      );
    }
    expect(view.routes).toContainEqual(expect.objectContaining({ dst: "default", gateway: "172.29.74.1" }));
    expect(view.neighbours.map((n) => n.address)).toContain(
      web.networkSettings.networks["ex-net"]?.ipAddress,
    );
    expect(view.hosts).toContain("ex-cli");
    expect(view.resolvConf).toMatch(/nameserver/);
    expect(view.drift).toEqual([]);
    expect(view.node.name).toBe("ex-cli");
  });

  it("shows a veth deleted behind Labnet's back as drift", async () => {
    const second = await labnet.waitingClient.POST("/v1/networks", {
      body: { name: "ex-net2", ipam: { configs: [{ subnet: "172.29.75.0/24" }] } },
    });
    expect(second.response.status).toBe(201);
    const two = await createNode("ex-two");
    const connected = await labnet.waitingClient.POST("/v1/networks/{networkId}/connect", {
      params: { path: { networkId: "ex-net2" } },
      body: { node: "ex-two" },
    });
    expect(connected.response.status, JSON.stringify(connected.error)).toBeLessThan(300);
    const netns = netnsOf(two.sandboxKey);
    const before = await labnet.client.GET("/v1/nodes/{nodeId}/kernel", {
      params: { path: { nodeId: "ex-two" } },
    });
    expect(before.data?.drift).toEqual([]);
    expect(before.data?.interfaces.map((i) => i.name)).toContain("eth1");
    const deleted = await execIn(netns, ["ip", "link", "del", "eth1"]);
    expect(deleted.code, deleted.stderr).toBe(0);
    const after = await labnet.client.GET("/v1/nodes/{nodeId}/kernel", {
      params: { path: { nodeId: "ex-two" } },
    });
    expect(after.data?.drift).toContainEqual(
      expect.objectContaining({ kind: "interface-missing", interface: "eth1", message: "eth1 missing" }),
    );
  });
});
