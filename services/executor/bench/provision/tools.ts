/**
 * The same kernel state as a Labnet burst (N sandboxes on ceil(N/250) bridges, each sandbox
 * with eth0, an address, a default route via its bridge, one published port), built and torn
 * down by standard tools two ways:
 *
 *   batched      one `ip -batch -` for every `netns add`; one for the host side (bridges with
 *                their gateway address, veth pairs created with `peer name eth0 netns NS`,
 *                master, up); one `ip -batch -` per sandbox, entered with `nsenter --net`
 *                (lo up, address, eth0 up, default route; 8 in flight, as the executor runs
 *                them: `ip -n NS` would also copy the mount namespace, about 1.5x the cost
 *                per sandbox, so it would be a weaker floor); one
 *                `iptables-restore --noflush` (MASQUERADE per network, DNAT + FORWARD accept
 *                per port). Teardown: one `ip -batch -` of `netns del` + `link del` of the
 *                bridges, one `iptables-restore --noflush` that empties the chains.
 *   per command  the tutorial way: `ip netns add`, `ip link add ...`, `iptables -t nat -A ...`,
 *                one process each (10 per node, 4 per network); teardown `ip netns del` and
 *                `iptables -D` per rule, `ip link del` per bridge.
 *
 * The rules live in the bench's own chains (LBENCH-*), names carry no Labnet prefix (bridges
 * `<tag>nbr<j>`, veths `<tag>nv<i>`) and sandboxes are `<run>-<tag>-<i>`, so the executor running
 * in the same namespace neither owns nor prunes any of it.
 */
import { runCommandOrThrow } from "@labnet/devstack";
import {
  bridgeLines,
  type Endpoint,
  ipBatch,
  type NetworkLayout,
  restore,
  runTool as run,
  SANDBOX_BATCHES_IN_FLIGHT,
  sandboxLines,
} from "../kernel-tools";
import { NODES_PER_NETWORK } from "./config";
import { inParallel } from "./http";

/** The bench's own chains (also the labs bench's, for its lab host's MASQUERADE). */
export const CHAINS = { postrouting: "LBENCH-POSTROUTING", dnat: "LBENCH-DNAT", forward: "LBENCH-FORWARD" };
const CONTAINER_PORT = 80;

/** A sandbox on a `10.<a>.<j>.0/24` network, with one published port. */
export interface NodeLayout extends Endpoint {
  hostPort: number;
}

export interface Layout {
  networks: NetworkLayout[];
  nodes: NodeLayout[];
}

/** How many networks N nodes need (at most {@link NODES_PER_NETWORK} per /24 and bridge). */
export function networkCount(n: number): number {
  return Math.ceil(n / NODES_PER_NETWORK);
}

/**
 * N nodes spread round-robin over {@link networkCount} networks `10.<octet>.<j>.0/24`; host ports
 * from `firstPort` (outside Labnet's random range).
 *
 * @example layoutOf(300, "b", "lbench1-provision-", 124, 20000).networks.length // 2
 */
export function layoutOf(
  n: number,
  tag: string,
  runPrefix: string,
  octet: number,
  firstPort: number,
): Layout {
  const networks = Array.from({ length: networkCount(n) }, (_, j) => ({
    bridge: `${tag}nbr${j}`,
    subnet: `10.${octet}.${j}.0/24`,
    gateway: `10.${octet}.${j}.1`,
  }));
  const nodes = Array.from({ length: n }, (_, i) => {
    const network = networks[i % networks.length];
    if (network === undefined) {
      throw new Error("no network");
    }
    const host = 2 + Math.floor(i / networks.length);
    return {
      netns: `${runPrefix}${tag}-${i}`,
      veth: `${tag}nv${i}`,
      address: `10.${octet}.${networks.indexOf(network)}.${host}`,
      network,
      hostPort: firstPort + i,
    };
  });
  return { networks, nodes };
}

/** Creates the bench's chains and the jumps to them (once per run, untimed). */
export async function prepareChains(): Promise<void> {
  await restore(
    [
      "*nat",
      `:${CHAINS.postrouting} - [0:0]`,
      `:${CHAINS.dnat} - [0:0]`,
      `-A PREROUTING -j ${CHAINS.dnat}`,
      `-A OUTPUT -j ${CHAINS.dnat}`,
      `-A POSTROUTING -j ${CHAINS.postrouting}`,
      "COMMIT",
      "*filter",
      `:${CHAINS.forward} - [0:0]`,
      `-A FORWARD -j ${CHAINS.forward}`,
      "COMMIT",
    ].join("\n"),
  );
}

/** A MASQUERADE rule (without `-A`) for `net` leaving through anything but its bridge. */
export const masquerade = (net: NetworkLayout) =>
  `${CHAINS.postrouting} -s ${net.subnet} ! -o ${net.bridge} -j MASQUERADE`;
const dnat = (node: NodeLayout) =>
  `${CHAINS.dnat} -p tcp --dport ${node.hostPort} -j DNAT --to-destination ${node.address}:${CONTAINER_PORT}`;
const forward = (node: NodeLayout) =>
  `${CHAINS.forward} -d ${node.address}/32 -o ${node.network.bridge} -p tcp --dport ${CONTAINER_PORT} -j ACCEPT`;

function ruleLines(networks: readonly NetworkLayout[], nodes: readonly NodeLayout[]): string {
  return [
    "*nat",
    ...networks.map((net) => `-A ${masquerade(net)}`),
    ...nodes.map((node) => `-A ${dnat(node)}`),
    "COMMIT",
    "*filter",
    ...nodes.map((node) => `-A ${forward(node)}`),
    "COMMIT",
  ].join("\n");
}

/** Builds `networks` and `nodes` with batched tools (networks may be empty: they exist). */
export async function buildBatched(networks: readonly NetworkLayout[], nodes: readonly NodeLayout[]) {
  await ipBatch(nodes.map((node) => `netns add ${node.netns}`));
  await ipBatch(bridgeLines(networks, nodes));
  await inParallel(nodes.length, SANDBOX_BATCHES_IN_FLIGHT, (i) => {
    const node = nodes[i];
    return node === undefined ? Promise.resolve() : ipBatch(sandboxLines(node), node.netns);
  });
  await restore(ruleLines(networks, nodes));
}

/** Tears the whole layout down with batched tools: one `ip -batch`, one `iptables-restore`. */
export async function teardownBatched(layout: Layout): Promise<void> {
  await ipBatch([
    ...layout.nodes.map((node) => `netns del ${node.netns}`),
    ...layout.networks.map((net) => `link del ${net.bridge}`),
  ]);
  await emptyChains();
}

/** One node torn down with batched tools, its bridge kept: `netns del`, its two rules deleted. */
export async function teardownOneBatched(node: NodeLayout): Promise<void> {
  await ipBatch([`netns del ${node.netns}`]);
  await restore(
    ["*nat", `-D ${dnat(node)}`, "COMMIT", "*filter", `-D ${forward(node)}`, "COMMIT"].join("\n"),
  );
}

/** Builds the layout one process per command. */
export async function buildPerCommand(layout: Layout): Promise<void> {
  for (const net of layout.networks) {
    await run(["ip", "link", "add", net.bridge, "type", "bridge"]);
    await run(["ip", "addr", "add", `${net.gateway}/24`, "dev", net.bridge]);
    await run(["ip", "link", "set", net.bridge, "up"]);
    await run(["iptables", "-t", "nat", "-A", ...masquerade(net).split(" ")]);
  }
  for (const node of layout.nodes) {
    const ns = node.netns;
    await run(["ip", "netns", "add", ns]);
    await run(["ip", "link", "add", node.veth, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    await run(["ip", "link", "set", node.veth, "master", node.network.bridge]);
    await run(["ip", "link", "set", node.veth, "up"]);
    await run(["ip", "-n", ns, "link", "set", "lo", "up"]);
    await run(["ip", "-n", ns, "addr", "add", `${node.address}/24`, "dev", "eth0"]);
    await run(["ip", "-n", ns, "link", "set", "eth0", "up"]);
    await run(["ip", "-n", ns, "route", "add", "default", "via", node.network.gateway]);
    await run(["iptables", "-t", "nat", "-A", ...dnat(node).split(" ")]);
    await run(["iptables", "-A", ...forward(node).split(" ")]);
  }
}

/** Tears the layout down one process per command. */
export async function teardownPerCommand(layout: Layout): Promise<void> {
  for (const node of layout.nodes) {
    await run(["ip", "netns", "del", node.netns]);
    await run(["iptables", "-t", "nat", "-D", ...dnat(node).split(" ")]);
    await run(["iptables", "-D", ...forward(node).split(" ")]);
  }
  for (const net of layout.networks) {
    await run(["iptables", "-t", "nat", "-D", ...masquerade(net).split(" ")]);
    await run(["ip", "link", "del", net.bridge]);
  }
}

/** Flushes the bench's chains (declaring a chain in a `--noflush` payload empties it). */
export async function emptyChains(): Promise<void> {
  await restore(
    [
      "*nat",
      `:${CHAINS.postrouting} - [0:0]`,
      `:${CHAINS.dnat} - [0:0]`,
      "COMMIT",
      "*filter",
      `:${CHAINS.forward} - [0:0]`,
      "COMMIT",
    ].join("\n"),
  );
}

/** DNAT rules in the namespace's nat table, in any chain. */
export async function countDnatRules(): Promise<number> {
  const { stdout } = await runCommandOrThrow(["iptables-save", "-t", "nat"]);
  return stdout.split("\n").filter((line) => line.startsWith("-A ") && line.includes(" -j DNAT")).length;
}
