import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { runCommand, runCommandOrThrow } from "@labnet/process";

/** Named namespaces live here (`ip netns add` bind-mounts them). */
export const NETNS_DIR = "/run/netns";

const NETNS_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const IFNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
const IPV4_CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;

/** @throws unless `name` is a safe namespace name (it reaches `ip` argv). */
export function assertNetnsName(name: string): void {
  if (!NETNS_NAME.test(name)) {
    throw new Error(`invalid network namespace name ${JSON.stringify(name)}`);
  }
}

/** `/run/netns/<name>`, the path `nsenter --net=` takes. */
export function netnsPath(name: string): string {
  assertNetnsName(name);
  return `${NETNS_DIR}/${name}`;
}

/** Names of the named network namespaces, optionally only those starting with `prefix`. */
export async function listNetns(prefix = ""): Promise<string[]> {
  const result = await runCommandOrThrow(["ip", "netns", "list"]);
  return result.stdout
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.length > 0 && name.startsWith(prefix));
}

/** Creates a namespace with `lo` up. Fails if it exists. */
export async function addNetns(name: string): Promise<void> {
  assertNetnsName(name);
  await runCommandOrThrow(["ip", "netns", "add", name]);
  await runCommandOrThrow(["ip", "-n", name, "link", "set", "lo", "up"]);
}

/**
 * Deletes a namespace; a missing one is fine. `ip netns del` returns before the kernel has
 * destroyed the namespace's devices; processes still inside keep it alive.
 */
export async function deleteNetns(name: string): Promise<void> {
  assertNetnsName(name);
  if (!existsSync(netnsPath(name))) {
    return;
  }
  const result = await runCommand(["ip", "netns", "del", name]);
  if (result.code !== 0 && existsSync(netnsPath(name))) {
    throw new Error(`ip netns del ${name} failed: ${result.stderr.trim()}`);
  }
}

/** PIDs of the processes whose network namespace is `name`. */
export async function listNetnsPids(name: string): Promise<number[]> {
  assertNetnsName(name);
  const result = await runCommand(["ip", "netns", "pids", name]);
  return result.stdout
    .split("\n")
    .map((line) => Number(line.trim()))
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

/** Polls until no namespace starting with `prefix` is left. @throws with the leftovers on timeout. */
export async function waitForNoNetns(prefix: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await listNetns(prefix);
    if (left.length === 0) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`network namespaces still present after ${timeoutMs} ms: ${left.join(" ")}`);
    }
    await sleep(50);
  }
}

/** Two namespaces joined by a veth pair; the host side routes everything through the other. */
export interface UplinkPlan {
  hostNetns: string;
  outsideNetns: string;
  /** Interface in the host namespace (default `uplink0`). */
  hostInterface?: string;
  /** Interface in the outside namespace (default `eth0`). */
  outsideInterface?: string;
  /** Host side address with prefix, e.g. `198.18.0.1/24`. */
  hostAddress: string;
  /** Outside address with prefix, e.g. `198.18.0.2/24`; the host's default gateway. */
  outsideAddress: string;
}

/**
 * Creates both namespaces (lo up) and the veth pair between them, addresses both ends and gives
 * the host a default route via the outside address. Touches nothing in the caller's namespace:
 * the pair is created inside the host namespace and its peer moved straight to the outside one.
 */
export async function createUplinkedNetns(plan: UplinkPlan): Promise<void> {
  const hostIf = plan.hostInterface ?? "uplink0";
  const outsideIf = plan.outsideInterface ?? "eth0";
  for (const ifName of [hostIf, outsideIf]) {
    if (!IFNAME.test(ifName)) {
      throw new Error(`invalid interface name ${JSON.stringify(ifName)}`);
    }
  }
  for (const cidr of [plan.hostAddress, plan.outsideAddress]) {
    if (!IPV4_CIDR.test(cidr)) {
      throw new Error(`invalid IPv4 address with prefix ${JSON.stringify(cidr)}`);
    }
  }
  const gateway = plan.outsideAddress.split("/")[0] ?? "";
  const created: string[] = [];
  try {
    await addNetns(plan.hostNetns);
    created.push(plan.hostNetns);
    await addNetns(plan.outsideNetns);
    created.push(plan.outsideNetns);
    // The peer cannot be set up in the command that creates it (kernel quirk), hence two batches.
    await runCommandOrThrow(["ip", "-n", plan.hostNetns, "-batch", "-"], {
      input: [
        `link add ${hostIf} type veth peer name ${outsideIf} netns ${plan.outsideNetns}`,
        `addr add ${plan.hostAddress} dev ${hostIf}`,
        `link set ${hostIf} up`,
      ].join("\n"),
    });
    await runCommandOrThrow(["ip", "-n", plan.outsideNetns, "-batch", "-"], {
      input: [`addr add ${plan.outsideAddress} dev ${outsideIf}`, `link set ${outsideIf} up`].join("\n"),
    });
    await runCommandOrThrow(["ip", "-n", plan.hostNetns, "route", "add", "default", "via", gateway]);
  } catch (error) {
    // Half-built namespaces would outlive us; remove only the ones this call made.
    for (const name of created) {
      await deleteNetns(name);
    }
    throw error;
  }
}

/** The namespaces `npm start` gives the lab host by default. */
export interface LabHostNetns {
  hostNetns: string;
  outsideNetns: string;
  /** `/run/netns/<hostNetns>`, for `nsenter --net=`. */
  hostNetnsPath: string;
  /** The host's uplink address (no prefix): its "underlay" address. */
  uplinkAddress: string;
  /** Deletes both namespaces. */
  remove(): Promise<void>;
}

/**
 * Builds the default "try it" lab host: a namespace `labnet-host` whose only way out is a veth
 * to a second namespace `labnet-outside` (198.18.0.1/24 ↔ 198.18.0.2/24, default route via the
 * outside), so labs have an outside world to MASQUERADE to and the machine's own network is
 * never touched. Leftovers of an earlier run that died are removed first, so the host starts
 * empty; the executor rebuilds labs from Postgres.
 */
export async function ensureLabHostNetns(
  options: { hostNetns?: string; outsideNetns?: string } = {},
): Promise<LabHostNetns> {
  const hostNetns = options.hostNetns ?? "labnet-host";
  const outsideNetns = options.outsideNetns ?? "labnet-outside";
  const remove = async () => {
    await deleteNetns(hostNetns);
    await deleteNetns(outsideNetns);
  };
  await remove();
  await createUplinkedNetns({
    hostNetns,
    outsideNetns,
    hostAddress: "198.18.0.1/24",
    outsideAddress: "198.18.0.2/24",
  });
  return {
    hostNetns,
    outsideNetns,
    hostNetnsPath: netnsPath(hostNetns),
    uplinkAddress: "198.18.0.1",
    remove,
  };
}
