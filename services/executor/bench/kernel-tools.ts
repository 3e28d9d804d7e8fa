/**
 * Standard tools as the benches' baselines run them, the fastest standard way (DESIGN §4): one
 * `ip -batch -` per namespace (entered with `nsenter --net`, which does not copy the mount
 * namespace as `ip -n NS` does), one `iptables-restore --noflush` per rule set; the `ip` lines of
 * bridges, veth pairs and sandboxes; one ping; waiting until deleted namespaces' veths are gone.
 * Shared by the provision bench (`provision/tools.ts`) and the labs bench (`labs/tools.ts`).
 */
import { runCommand, runCommandOrThrow } from "@labnet/devstack";

/** Sandbox batches in flight at once (the executor's own limit). */
export const SANDBOX_BATCHES_IN_FLIGHT = 8;

/** A bridge with its gateway address. */
export interface NetworkLayout {
  bridge: string;
  /** `a.b.c.d/len` */
  subnet: string;
  gateway: string;
}

/** A namespace's interface on a bridge: a veth pair, the outer end `veth` on `network.bridge`. */
export interface Endpoint {
  netns: string;
  veth: string;
  /** The inner end's name (default `eth0`). */
  ifname?: string;
  address: string;
  network: NetworkLayout;
}

const prefixLength = (net: NetworkLayout) => net.subnet.slice(net.subnet.indexOf("/") + 1);
const ifnameOf = (endpoint: Endpoint) => endpoint.ifname ?? "eth0";

/**
 * `ip` lines of the side that holds the bridges: each bridge with its gateway address, up; each
 * endpoint's veth pair, the inner end created in its namespace, the outer end on the bridge, up
 * (the inner end cannot be set up from here: {@link sandboxLines} does it inside).
 */
export function bridgeLines(networks: readonly NetworkLayout[], endpoints: readonly Endpoint[]): string[] {
  return [
    ...networks.flatMap((net) => [
      `link add ${net.bridge} type bridge`,
      `addr add ${net.gateway}/${prefixLength(net)} dev ${net.bridge}`,
      `link set ${net.bridge} up`,
    ]),
    ...endpoints.flatMap((endpoint) => [
      `link add ${endpoint.veth} type veth peer name ${ifnameOf(endpoint)} netns ${endpoint.netns}`,
      `link set ${endpoint.veth} master ${endpoint.network.bridge}`,
      `link set ${endpoint.veth} up`,
    ]),
  ];
}

/** `ip` lines inside an endpoint's namespace: its address, the interface up. */
export function addressLines(endpoint: Endpoint): string[] {
  const ifname = ifnameOf(endpoint);
  return [
    `addr add ${endpoint.address}/${prefixLength(endpoint.network)} dev ${ifname}`,
    `link set ${ifname} up`,
  ];
}

/** `ip` lines of a sandbox's first interface: lo up, address, up, default route via the gateway. */
export function sandboxLines(endpoint: Endpoint): string[] {
  return ["link set lo up", ...addressLines(endpoint), `route add default via ${endpoint.network.gateway}`];
}

/** One `ip -batch -`, in the namespace `netns` when given (entered with `nsenter --net`). */
export async function ipBatch(lines: readonly string[], netns?: string): Promise<void> {
  if (lines.length === 0) {
    return;
  }
  await runTool([...enter(netns), "ip", "-batch", "-"], `${lines.join("\n")}\n`);
}

/** One `iptables-restore --noflush` of `payload`, in the namespace `netns` when given. */
export async function restore(payload: string, netns?: string): Promise<void> {
  await runTool([...enter(netns), "iptables-restore", "--noflush"], `${payload}\n`);
}

/** Runs `argv` (never a shell); throws with its output unless it exits 0. */
export async function runTool(argv: readonly string[], input?: string): Promise<void> {
  await runCommandOrThrow(argv, input === undefined ? {} : { input });
}

/** `nsenter --net=/run/netns/<netns> --`, or nothing for the current namespace. */
export function enter(netns: string | undefined): string[] {
  return netns === undefined ? [] : ["nsenter", `--net=/run/netns/${netns}`, "--"];
}

/** True when `from`'s namespace gets an answer from `address` (one ping, three tries). */
export async function pings(fromNetnsPath: string, address: string): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const result = await runCommand(["nsenter", `--net=${fromNetnsPath}`, "ping", "-c1", "-W1", address], {
      timeoutMs: 5_000,
    });
    if (result.code === 0) {
      return true;
    }
  }
  return false;
}

/**
 * How long a failed probe's neighbour entry stays INCOMPLETE: 3 ARP probes 1 s apart
 * (`mcast_solicit`, `retrans_time_ms`), plus a margin. A ping into that window (say, right after
 * the address appeared) is queued behind the old resolution and fails with it; once the entry is
 * FAILED, the next packet resolves afresh.
 */
export const NEIGHBOUR_SETTLE_MS = 3_500;

/** Names of the veths in the namespace. */
async function vethNames(): Promise<string[]> {
  const { stdout } = await runCommandOrThrow(["ip", "-j", "link", "show", "type", "veth"]);
  return (JSON.parse(stdout || "[]") as { ifname?: string }[]).map((link) => link.ifname ?? "");
}

/**
 * Waits (untimed, up to 2 minutes) until the namespace holds no veth: deleting a namespace
 * returns before the kernel has destroyed its veth pair, and that work would otherwise land in
 * the next measurement. (Bridges go synchronously with `link del`.)
 */
export async function waitForVethsGone(): Promise<void> {
  const deadline = performance.now() + 120_000;
  for (;;) {
    const left = await vethNames();
    if (left.length === 0) {
      return;
    }
    if (performance.now() > deadline) {
      throw new Error(`veths still there after 2 minutes: ${left.slice(0, 5).join(", ")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
