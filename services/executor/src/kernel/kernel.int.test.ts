/**
 * observe -> plan -> apply against the real kernel. The "host" is a network namespace
 * made for this run and driven from outside with nsenter; every namespace carries the
 * run prefix and is deleted afterwards, also on failure. Traffic stays between the
 * namespaces made here. Needs root, iproute2, iptables and ping.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { promisify } from "node:util";
import {
  bridgeName,
  type DesiredHost,
  type DesiredSandbox,
  hostVethName,
  isIpNoop,
  isLabnetBridge,
  isLabnetHostVeth,
  parseIpAddrJson,
  planHost,
  sandboxIfName,
  sandboxNetnsName,
} from "@labnet/netplan";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyPlanOrThrow as applyPlan, applyPlan as applyReporting } from "./apply";
import { detectCapabilities } from "./capabilities";
import { observeHost } from "./observe";
import { createExecRunner, type Runner, runOrThrow, withNetns } from "./runner";

const exec = promisify(execFile);

const RUN = `lt${randomBytes(3).toString("hex")}`;
const HOST_NETNS = `${RUN}h-host`;
const SANDBOX_PREFIX = `${RUN}s-`;
const PROBE_PREFIX = `${RUN}c-`;

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
function randomId(prefix: string): string {
  return prefix + Array.from(randomBytes(16), (byte) => BASE32[byte % 32]).join("");
}

function makeDesired(): DesiredHost {
  const networkId = randomId("net_");
  const bridge = bridgeName(networkId);
  const sandbox = (octet: number): DesiredSandbox => {
    const endpointId = randomId("ep_");
    return {
      nodeId: randomId("nod_"),
      netns: "",
      endpoints: [
        {
          endpointId,
          ifName: sandboxIfName(0),
          hostVeth: hostVethName(endpointId),
          bridge,
          address: `172.30.0.${octet}/24`,
          mac: `02:42:ac:1e:00:0${octet}`,
          mtu: 1500,
        },
      ],
      defaultGateway: "172.30.0.1",
    };
  };
  const sandboxes = [sandbox(2), sandbox(3)].map((s) => ({
    ...s,
    netns: sandboxNetnsName(SANDBOX_PREFIX, s.nodeId),
  }));
  return {
    bridges: [
      {
        networkId,
        bridge,
        gateways: ["172.30.0.1/24"],
        subnets: ["172.30.0.0/24"],
        internal: false,
        icc: true,
        isolated: true,
        mtu: 1500,
      },
    ],
    sandboxes,
    portMappings: [],
  };
}

async function listRunNetns(): Promise<string[]> {
  return (await readdir("/run/netns").catch(() => [])).filter((name) => name.startsWith(RUN));
}

async function deleteRunNetns(): Promise<void> {
  for (const name of await listRunNetns()) {
    await exec("ip", ["netns", "del", name]).catch(() => undefined);
  }
}

/** `ip netns del` returns before the kernel destroys the devices; poll for the outcome. */
async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function ping(fromNetns: string, address: string): Promise<boolean> {
  try {
    await exec("ip", ["netns", "exec", fromNetns, "ping", "-c1", "-W1", address]);
    return true;
  } catch {
    return false;
  }
}

describe("kernel: observe -> plan -> apply on a simulated host", { timeout: 30_000 }, () => {
  let host: Runner;
  const desired = makeDesired();
  const [first, second] = desired.sandboxes;
  const hostVethOf = (sandbox: DesiredSandbox | undefined) => sandbox?.endpoints[0]?.hostVeth ?? "";

  async function converge(want: DesiredHost, prune = true) {
    const observed = await observeHost(host, {
      netnsPrefix: SANDBOX_PREFIX,
      sandboxes: want.sandboxes.map((s) => s.netns),
    });
    const plan = planHost(want, observed, { netnsPrefix: SANDBOX_PREFIX, prune });
    await applyPlan(host, plan);
    return plan;
  }

  async function replan(want: DesiredHost) {
    const observed = await observeHost(host, {
      netnsPrefix: SANDBOX_PREFIX,
      sandboxes: want.sandboxes.map((s) => s.netns),
    });
    return planHost(want, observed, { netnsPrefix: SANDBOX_PREFIX, prune: true });
  }

  async function hostLinks() {
    return parseIpAddrJson((await runOrThrow(host, ["ip", "-j", "-d", "addr", "show"])).stdout);
  }

  beforeAll(async () => {
    await exec("ip", ["netns", "add", HOST_NETNS]);
    host = withNetns(createExecRunner(), `/run/netns/${HOST_NETNS}`);
  });

  afterAll(async () => {
    await deleteRunNetns();
  });

  it("detects bridge, veth and iptables in a throwaway namespace and removes it", async () => {
    const capabilities = await detectCapabilities(host, { netnsPrefix: PROBE_PREFIX });
    expect(capabilities.linkTypes).toEqual(expect.arrayContaining(["bridge", "veth"]));
    expect(capabilities.drivers).toEqual(expect.arrayContaining(["bridge"]));
    // Network modes of nodes, not drivers a network is created with.
    expect(capabilities.drivers).not.toContain("host");
    expect(capabilities.drivers).not.toContain("none");
    expect(capabilities.iptables).toBe(true);
    expect((await listRunNetns()).filter((name) => name.startsWith(PROBE_PREFIX))).toEqual([]);
  });

  it("builds one bridge and two sandboxes that ping each other", async () => {
    const plan = await converge(desired);
    expect(plan.netnsAdd).toHaveLength(2);
    expect(first && second).toBeTruthy();
    expect(await ping(first?.netns ?? "", "172.30.0.3")).toBe(true);
    expect(await ping(second?.netns ?? "", "172.30.0.1")).toBe(true);

    // No IPv6 autoconf on Labnet links (it doubles setup time near 1,000 ports).
    const links = await hostLinks();
    const labnetLinks = links.filter((l) => isLabnetBridge(l.name) || isLabnetHostVeth(l.name));
    expect(labnetLinks.map((l) => l.name).sort()).toEqual(
      [desired.bridges[0]?.bridge, hostVethOf(first), hostVethOf(second)].sort(),
    );
    const raw = (await runOrThrow(host, ["ip", "-j", "addr", "show"])).stdout;
    expect(raw).not.toContain('"family":"inet6"');

    const save = (await runOrThrow(host, ["iptables-save"])).stdout;
    expect(save).toContain(
      `-A LABNET-POSTROUTING -s 172.30.0.0/24 ! -o ${desired.bridges[0]?.bridge} -j MASQUERADE`,
    );
    expect(save).toContain("-A FORWARD -j LABNET-FORWARD");
  });

  it("is idempotent: a second plan has no ip lines and no iptables work", async () => {
    const plan = await replan(desired);
    expect(plan).toMatchObject({ netnsAdd: [], hostBatch: [], sandboxBatches: [], netnsDelete: [] });
    expect(isIpNoop(plan)).toBe(true);
    // The rendered rules are exactly what iptables-save prints back: nothing to restore.
    expect(plan.iptablesRestore).toBe("");
    expect(plan.iptablesRestore).not.toContain("-j LABNET-POSTROUTING\n-A");
    expect(plan.iptablesRestore).not.toMatch(/^-[AI] (FORWARD|POSTROUTING|PREROUTING|OUTPUT) /m);
    await applyPlan(host, plan);
    const save = (await runOrThrow(host, ["iptables-save"])).stdout;
    expect(save.match(/-A FORWARD -j LABNET-FORWARD/g)).toHaveLength(1);
  });

  it("recreates a sandbox whose namespace was deleted by hand", async () => {
    const victim = first?.netns ?? "";
    await exec("ip", ["netns", "del", victim]);
    await waitFor(
      async () => !(await hostLinks()).some((l) => l.name === hostVethOf(first)),
      "the host veth of the deleted sandbox to go",
    );
    const plan = await converge(desired);
    expect(plan.netnsAdd).toEqual([victim]);
    expect(await ping(victim, "172.30.0.3")).toBe(true);
    expect(isIpNoop(await replan(desired))).toBe(true);
  });

  it("converges a half-applied state: bridge address and sandbox eth0 removed", async () => {
    const bridge = desired.bridges[0]?.bridge ?? "";
    await runOrThrow(host, ["ip", "addr", "flush", "dev", bridge]);
    await exec("ip", ["-n", second?.netns ?? "", "link", "del", "eth0"]);
    const plan = await converge(desired);
    expect(plan.hostBatch).toContain(`addr replace 172.30.0.1/24 dev ${bridge}`);
    expect(await ping(first?.netns ?? "", "172.30.0.3")).toBe(true);
    expect(isIpNoop(await replan(desired))).toBe(true);
  });

  it("replaces an endpoint that another endpoint's pair still holds as eth0", async () => {
    const endpointId = randomId("ep_");
    const replaced: DesiredHost = {
      ...desired,
      sandboxes: desired.sandboxes.map((s) =>
        s === first
          ? {
              ...s,
              endpoints: s.endpoints.map((e) => ({
                ...e,
                endpointId,
                hostVeth: hostVethName(endpointId),
                address: "172.30.0.4/24",
                mac: "02:42:ac:1e:00:04",
              })),
            }
          : s,
      ),
    };
    const plan = await converge(replaced);
    expect(plan.hostBatch[0]).toBe(`link del ${hostVethOf(first)}`);
    expect(await ping(first?.netns ?? "", "172.30.0.3")).toBe(true);
    expect(isIpNoop(await replan(replaced))).toBe(true);

    // And back, so the remaining steps start from `desired` again.
    await converge(desired);
    expect(isIpNoop(await replan(desired))).toBe(true);
  });

  it("moves a new veth in under a temporary name when eth0 is held by a foreign link", async () => {
    const netns = second?.netns ?? "";
    await exec("ip", ["-n", netns, "link", "del", "eth0"]);
    await exec("ip", ["-n", netns, "link", "add", "eth0", "type", "bridge"]);
    const plan = await converge(desired);
    expect(plan.sandboxBatches.find((b) => b.netns === netns)?.lines).toEqual(
      expect.arrayContaining(["link del eth0", `link set lnt${hostVethOf(second).slice(3)} name eth0`]),
    );
    expect(await ping(netns, "172.30.0.2")).toBe(true);
    expect(isIpNoop(await replan(desired))).toBe(true);
  });

  it("goes on past a line naming a namespace that is not there, which ends `ip -force -batch` itself", async () => {
    const missing = `${SANDBOX_PREFIX}nosuchnamespace0`;
    const [before, after] = [`${RUN}a0`, `${RUN}c0`];
    const lines = [
      `link add ${before} type bridge`,
      `link add ${RUN}b0 type veth peer name eth0 netns ${missing}`,
      `link set ${RUN}b0 up`,
      `link add ${after} type bridge`,
    ];
    try {
      const failures = await applyReporting(host, {
        netnsAdd: [],
        hostBatch: lines,
        sandboxBatches: [],
        iptablesRestore: "",
        netnsDelete: [],
      });
      // That veth's own later line fails as its link is not there: both are its target's.
      expect(failures).toEqual([
        {
          step: "host batch",
          line: lines[1],
          message: expect.stringContaining(`argument "${missing}" is wrong`) as unknown,
        },
        {
          step: "host batch",
          line: lines[2],
          message: expect.stringMatching(/Cannot find device/) as unknown,
        },
      ]);
      const names = (await hostLinks()).map((l) => l.name);
      expect(names).toEqual(expect.arrayContaining([before, after]));
      expect(names).not.toContain(`${RUN}b0`);
    } finally {
      for (const name of [before, after]) {
        await host.run(["ip", "link", "del", name]);
      }
    }
  });

  it("kills a hung command at its timeout", async () => {
    // `ip monitor` runs until killed; it only listens, inside the simulated host.
    const result = await host.run(["ip", "monitor"], { timeoutMs: 200 });
    expect(result.code).toBe(124);
    expect(result.stderr).toContain("timed out after 200 ms");
  });

  it("recognises every kind of Labnet rule as applied, so an unchanged host skips iptables-restore", async () => {
    const [bridge] = desired.bridges;
    if (!bridge) {
      throw new Error("no bridge");
    }
    const extra = (octet: number, overrides: Partial<typeof bridge>) => {
      const networkId = randomId("net_");
      return {
        ...bridge,
        networkId,
        bridge: bridgeName(networkId),
        gateways: [`10.3${octet}.0.1/24`],
        subnets: [`10.3${octet}.0.0/24`],
        ...overrides,
      };
    };
    const busy: DesiredHost = {
      ...desired,
      bridges: [bridge, extra(1, { internal: true }), extra(2, { icc: false, isolated: false })],
      portMappings: [
        {
          protocol: "tcp",
          hostPort: 8080,
          targetAddress: "172.30.0.2",
          targetPort: 80,
          bridge: bridge.bridge,
        },
        {
          protocol: "udp",
          bindAddress: "127.0.0.1",
          hostPort: 5353,
          targetAddress: "172.30.0.3",
          targetPort: 53,
          bridge: bridge.bridge,
        },
      ],
    };
    const applied = await converge(busy);
    expect(applied.iptablesRestore).toContain("DNAT --to-destination 172.30.0.2:80");
    expect((await replan(busy)).iptablesRestore).toBe("");
    await converge(desired);
    expect((await replan(desired)).iptablesRestore).toBe("");
  });

  it("adds published ports without flushing their chains, and the kernel then holds the rendered order", async () => {
    const [bridge] = desired.bridges;
    if (!bridge) {
      throw new Error("no bridge");
    }
    const mapping = (hostPort: number, address: string) => ({
      protocol: "tcp" as const,
      hostPort,
      targetAddress: address,
      targetPort: 80,
      bridge: bridge.bridge,
    });
    const two = { ...desired, portMappings: [mapping(8080, "172.30.0.2"), mapping(9090, "172.30.0.3")] };
    await converge(two);
    // 8085 sorts between the two: inserted at its place, nothing declared (flushed).
    const three = { ...two, portMappings: [...two.portMappings, mapping(8085, "172.30.0.4")] };
    const added = await converge(three);
    expect(added.iptablesRestore).toContain(`-I LABNET-DNAT-${bridge.bridge} 2 -p tcp -m tcp --dport 8085`);
    expect(added.iptablesRestore).not.toMatch(/^:/m);
    expect((await replan(three)).iptablesRestore).toBe("");
    const nat = (await runOrThrow(host, ["iptables-save", "-t", "nat"])).stdout;
    const dnat = nat.split("\n").filter((line) => line.startsWith(`-A LABNET-DNAT-${bridge.bridge} `));
    expect(dnat.map((line) => /--dport (\d+)/.exec(line)?.[1])).toEqual(["8080", "8085", "9090"]);
    await converge(desired);
    expect((await replan(desired)).iptablesRestore).toBe("");
  });

  it("prunes everything when nothing is desired", async () => {
    const empty: DesiredHost = { bridges: [], sandboxes: [], portMappings: [] };
    const plan = await converge(empty);
    expect(plan.netnsDelete.sort()).toEqual(desired.sandboxes.map((s) => s.netns).sort());
    await waitFor(
      async () => !(await hostLinks()).some((l) => isLabnetBridge(l.name) || isLabnetHostVeth(l.name)),
      "Labnet links to go",
    );
    expect((await listRunNetns()).filter((name) => name.startsWith(SANDBOX_PREFIX))).toEqual([]);
    const save = (await runOrThrow(host, ["iptables-save"])).stdout;
    expect(save).not.toMatch(/^-A LABNET-/m);
    expect(save).toContain(":LABNET-FORWARD - [0:0]");
    expect(isIpNoop(await replan(empty))).toBe(true);
  });
});
