/**
 * Issue 8 deliverable 4, seed 002's macvlan exactly: two Docker hosts (bdc01, bdc02: sim hosts
 * whose `eth0` is on one simulated LAN, 10.0.0.11 and 10.0.0.12), each with
 *   docker network create --driver macvlan --subnet=100.0.0.0/24 --gateway=100.0.0.254 -o parent=eth0 macvlan_1
 * a node on bdc01 with 100.0.0.1 and one on bdc02 with 100.0.0.2, which ping each other. The
 * gateway 100.0.0.254 is on no interface: nothing of the network is on the hosts but their eth0.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { deleteNode } from "../helpers/api-steps";
import {
  defaultRoute,
  eventually,
  labnetLinks,
  labnetRules,
  waitForHostOnline,
} from "../helpers/kernel-state";
import type { TestLabnet } from "../helpers/labnet";
import {
  createSimHost,
  createSimLan,
  execIn,
  listNetns,
  netnsOf,
  ping,
  type SimHost,
  type SimLan,
} from "../helpers/netns";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";

let labnet: TestLabnet;
let lan: SimLan;
let bdc01: SimHost;
let bdc02: SimHost;

beforeAll(async () => {
  const runPrefix = inject("runPrefix");
  lan = await createSimLan(runPrefix, "mvlan");
  // eth0 exists before the executors start: they report it among the host's interfaces.
  // Reconciles every 2 s, so drift is repaired while the test waits.
  const executorEnv = { LABNET_RECONCILE_MS: "2000" };
  ({ labnet, host: bdc01 } = await startSimHostLabnet("bdc01", 60, {
    executorEnv,
    prepareHost: (host) => lan.attach(host, { address: "10.0.0.11/24" }),
  }));
  bdc02 = await createSimHost(runPrefix, "bdc02", { withOutside: true, index: 61 });
  await lan.attach(bdc02, { address: "10.0.0.12/24" });
  labnet.startExecutor(bdc02.hostNetns, executorEnv);
  await waitForHostOnline(labnet, bdc02.hostNetns);
});

afterAll(async () => {
  await labnet?.stop();
  await bdc01?.destroy();
  await bdc02?.destroy();
  await lan?.destroy();
});

/** What `ip -d addr show eth0` shows inside a node. */
async function eth0Of(netns: string) {
  const res = await execIn(netns, ["ip", "-j", "-d", "addr", "show", "dev", "eth0"]);
  expect(res.code).toBe(0);
  const [link] = JSON.parse(res.stdout) as {
    address: string;
    mtu: number;
    flags: string[];
    linkinfo?: { info_kind?: string; info_data?: { mode?: string } };
    addr_info: { family: string; local: string; prefixlen: number }[];
  }[];
  return {
    kind: link?.linkinfo?.info_kind,
    mode: link?.linkinfo?.info_data?.mode,
    mac: link?.address,
    mtu: link?.mtu,
    up: link?.flags.includes("UP"),
    ipv4: link?.addr_info.filter((a) => a.family === "inet").map((a) => `${a.local}/${a.prefixlen}`),
  };
}

/** eth0's first IPv4 address in a node, undefined while it has none (or no eth0). */
async function eth0Ipv4(netns: string): Promise<string | undefined> {
  const res = await execIn(netns, ["ip", "-o", "-4", "addr", "show", "dev", "eth0"]);
  return res.code === 0 ? /inet (\S+)/.exec(res.stdout)?.[1] : undefined;
}

async function createMacvlan1(host: SimHost) {
  const res = await labnet.waitingClient.POST("/v1/networks", {
    body: {
      name: "macvlan_1",
      host: host.hostNetns,
      driver: "macvlan",
      ipam: { configs: [{ subnet: "100.0.0.0/24", gateway: "100.0.0.254" }] },
      options: { parent: "eth0" },
    },
  });
  expect(res.error).toBeUndefined();
  expect(res.response.status).toBe(201);
  expect(res.data).toMatchObject({
    state: "ready",
    driver: "macvlan",
    options: { parent: "eth0", macvlan_mode: "bridge" },
  });
  return res.data?.id ?? "";
}

async function runNode(host: SimHost, name: string, network: string, ipv4Address?: string) {
  const res = await labnet.waitingClient.POST("/v1/nodes", {
    body: { name, host: host.hostNetns, networks: [{ network, ...(ipv4Address ? { ipv4Address } : {}) }] },
  });
  expect(res.error).toBeUndefined();
  expect(res.response.status).toBe(201);
  expect(res.data?.state).toBe("ready");
  return { node: res.data, netns: netnsOf(res.data?.sandboxKey) };
}

describe("seed 002: macvlan across two hosts of one LAN", () => {
  let one: Awaited<ReturnType<typeof runNode>>;
  let two: Awaited<ReturnType<typeof runNode>>;
  let net01 = "";
  let net02 = "";

  it("finds eth0 and macvlan on both hosts", async () => {
    const { data } = await labnet.client.GET("/v1/hosts");
    for (const host of [bdc01, bdc02]) {
      const record = data?.items.find((h) => h.name === host.hostNetns);
      expect(record?.capabilities.drivers).toContain("macvlan");
      expect(record?.capabilities.interfaces).toEqual(expect.arrayContaining(["eth0"]));
      expect(record?.capabilities.interfaces).not.toContain("lo");
    }
  });

  it("creates macvlan_1 on each host without building anything on the host", async () => {
    net01 = await createMacvlan1(bdc01);
    net02 = await createMacvlan1(bdc02);
    for (const host of [bdc01, bdc02]) {
      // Only the predefined bridge's bridge; the gateway 100.0.0.254 is on no interface.
      expect((await labnetLinks(host.hostNetns)).filter((l) => l.startsWith("lnbr-"))).toHaveLength(1);
      const addresses = await execIn(host.hostNetns, ["ip", "-4", "-o", "addr", "show"]);
      expect(addresses.stdout).not.toContain("100.0.0.");
      expect((await labnetRules(host.hostNetns)).join("\n")).not.toContain("100.0.0.");
    }
  });

  it("runs a node with 100.0.0.1 on bdc01 and one with 100.0.0.2 on bdc02, as the seed's ifconfig shows", async () => {
    one = await runNode(bdc01, "centos1", net01, "100.0.0.1");
    two = await runNode(bdc02, "centos2", net02, "100.0.0.2");
    expect(one.node?.networkSettings.networks.macvlan_1).toMatchObject({
      ipAddress: "100.0.0.1",
      ipPrefixLen: 24,
      gateway: "100.0.0.254",
      macAddress: "02:42:64:00:00:01",
    });
    expect(await eth0Of(one.netns)).toEqual({
      kind: "macvlan",
      mode: "bridge",
      mac: "02:42:64:00:00:01",
      mtu: 1500,
      up: true,
      ipv4: ["100.0.0.1/24"],
    });
    expect(await eth0Of(two.netns)).toMatchObject({
      kind: "macvlan",
      mac: "02:42:64:00:00:02",
      ipv4: ["100.0.0.2/24"],
    });
    expect(await defaultRoute(one.netns)).toBe("default via 100.0.0.254 dev eth0");
    // The host keeps no link of the endpoint (no veth, no temporary name).
    const hostLinks = await execIn(bdc01.hostNetns, ["ip", "-o", "link", "show"]);
    expect(hostLinks.stdout).not.toMatch(/ lnv| lns/);
  });

  it("and they ping each other across the LAN", async () => {
    expect(await ping(one.netns, "100.0.0.2", { count: 2 })).toBe(true);
    expect(await ping(two.netns, "100.0.0.1", { count: 2 })).toBe(true);
    // Seed 002: macvlan nodes cannot reach the outside (nothing answers for 100.0.0.254).
    expect(await ping(one.netns, bdc01.outsideAddress ?? "", { timeoutSec: 1 })).toBe(false);
  });

  it("repairs drift: a macvlan deleted or changed by hand is rebuilt by the reconcile", async () => {
    await execIn(one.netns, ["ip", "link", "del", "eth0"]);
    await execIn(two.netns, ["ip", "addr", "flush", "dev", "eth0"]);
    await eventually(
      async () => ((await eth0Ipv4(one.netns)) === "100.0.0.1/24" ? true : undefined),
      20_000,
      "centos1's eth0 rebuilt",
    );
    await eventually(
      async () => ((await eth0Ipv4(two.netns)) === "100.0.0.2/24" ? true : undefined),
      20_000,
      "centos2's address restored",
    );
    expect(await eth0Of(one.netns)).toMatchObject({ kind: "macvlan", mac: "02:42:64:00:00:01", up: true });
    expect(await defaultRoute(one.netns)).toBe("default via 100.0.0.254 dev eth0");
    expect(await ping(one.netns, "100.0.0.2", { count: 2 })).toBe(true);
  });

  it("gives a node on bdc01 an allocated address from the subnet once bdc02's node is gone", async () => {
    // IPAM is per host: bdc01 would hand out 100.0.0.2 while bdc02's node holds it on the LAN.
    await deleteNode(labnet, "centos2");
    expect(await listNetns(two.netns)).toEqual([]);
    const three = await runNode(bdc01, "centos3", net01);
    expect(three.node?.networkSettings.networks.macvlan_1).toMatchObject({
      ipAddress: "100.0.0.2",
      macAddress: "02:42:64:00:00:02",
    });
    expect(await eth0Of(three.netns)).toMatchObject({ kind: "macvlan", ipv4: ["100.0.0.2/24"] });
  });
});
