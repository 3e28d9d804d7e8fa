/**
 * Published ports answer on the lab host's own 127.0.0.1, as Docker's do (issue 14 item 4):
 * `curl 127.0.0.1:8080` on the host reaches `-p 8080:80`. Real packets in a simulated host
 * (index 100): the host namespace calls its loopback, the executor's nat OUTPUT rules and
 * route_localnet on the bridge (set in the host's namespace, never the machine's) carry it to
 * the node; a mapping on one specific address leaves loopback alone, and what the executor
 * turned on for loopback goes when the last such mapping goes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteNode } from "../helpers/api-steps";
import type { TestLabnet } from "../helpers/labnet";
import { execIn, netnsOf, type SimHost } from "../helpers/netns";
import { callPeer, startPeer } from "../helpers/peers";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";

let labnet: TestLabnet;
let host: SimHost;
let uplink: string;

beforeAll(async () => {
  ({ labnet, host } = await startSimHostLabnet("plo", 100));
  uplink = host.uplinkAddress ?? "";
});

afterAll(async () => {
  await labnet?.stop();
  await host?.destroy();
});

/** A node on the host's default bridge with listeners on 80/tcp and 80/udp. */
async function createServed(name: string, ports: string[]) {
  const res = await labnet.waitingClient.POST("/v1/nodes", { body: { name, host: host.hostNetns, ports } });
  expect(res.response.status, JSON.stringify(res.error)).toBe(201);
  const node = res.data;
  if (!node) {
    throw new Error(`node ${name} missing`);
  }
  await startPeer(netnsOf(node.sandboxKey), { tcpPort: 80, udpPort: 80, name: `peer-${name}` });
  return node;
}

/** The Labnet bridges with route_localnet on in the host's namespace. */
async function localnetBridges(): Promise<string[]> {
  const links = await execIn(host.hostNetns, ["ip", "-j", "link", "show", "type", "bridge"]);
  const names = (JSON.parse(links.stdout) as { ifname: string }[])
    .map((l) => l.ifname)
    .filter((n) => n.startsWith("lnbr-"));
  const on: string[] = [];
  for (const name of names) {
    const value = await execIn(host.hostNetns, ["sysctl", "-n", `net.ipv4.conf.${name}.route_localnet`]);
    if (value.stdout.trim() === "1") {
      on.push(name);
    }
  }
  return on;
}

describe("-p 8080:80 on the lab host's loopback", () => {
  it("curl 127.0.0.1:8080 on the host reaches the node, TCP and UDP, from the bridge's gateway", async () => {
    const web = await createServed("web", ["8080:80", "8080:80/udp"]);
    const gateway = web.networkSettings.networks.bridge?.gateway;
    const tcp = await callPeer(host.hostNetns, "127.0.0.1", { port: 8080 });
    // MASQUERADEd out of the bridge: a loopback source cannot go on a wire.
    expect(tcp).toMatchObject({ protocol: "tcp", address: gateway });
    const udp = await callPeer(host.hostNetns, "127.0.0.1", { protocol: "udp", port: 8080, data: "lo" });
    expect(udp).toMatchObject({ protocol: "udp", address: gateway, data: "lo" });
    // Still on the host's other addresses.
    expect(await callPeer(host.hostNetns, uplink, { port: 8080 })).toBeDefined();
    expect(await localnetBridges()).toHaveLength(1);
    // Nodes still cannot send loopback-addressed packets into the host through that bridge.
    const raw = (await execIn(host.hostNetns, ["iptables-save", "-t", "raw"])).stdout;
    const [bridge] = await localnetBridges();
    expect(raw).toContain(`-A LABNET-RAW -d 127.0.0.0/8 -i ${bridge} -j DROP`);
    await deleteNode(labnet, "web");
  });

  it("a mapping on one address of the host does not answer on loopback, and loopback's settings go with the last mapping", async () => {
    await createServed("bound", [`${uplink}:8081:80`]);
    expect(await callPeer(host.hostNetns, uplink, { port: 8081 })).toBeDefined();
    expect(await callPeer(host.hostNetns, "127.0.0.1", { port: 8081, timeoutMs: 1_500 })).toBeUndefined();
    expect(await localnetBridges()).toEqual([]);
    const raw = (await execIn(host.hostNetns, ["iptables-save", "-t", "raw"])).stdout;
    expect(raw).not.toMatch(/-A LABNET-RAW .* -j DROP/);
    await deleteNode(labnet, "bound");
  });
});
