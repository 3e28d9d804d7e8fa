import {
  addNetns,
  type CommandResult,
  createUplinkedNetns,
  deleteNetns,
  listNetns,
  listNetnsPids,
  runCommand,
  runCommandOrThrow,
  waitForNoNetns,
} from "@labnet/devstack";
import { removeEtcNetns } from "./etc-netns";
import { removeUsernsPins } from "./userns-pins";

export { listNetns, waitForNoNetns };

/** A simulated lab host: a namespace of its own, optionally with an "outside world" behind it. */
export interface SimHost {
  /** `<runPrefix><name>` */
  hostNetns: string;
  /** `<runPrefix>out<index>` when created with `withOutside`. */
  outsideNetns: string | undefined;
  /** Host side of the uplink, `198.18.<index>.1` (no prefix length). */
  uplinkAddress: string | undefined;
  /** Outside end, `198.18.<index>.2`: the host's default gateway. */
  outsideAddress: string | undefined;
  /** Runs argv in one of this host's namespaces (or any namespace of the run). */
  exec(netns: string, argv: readonly string[], options?: ExecOptions): Promise<CommandResult>;
  /** Deletes the host's namespaces (killing what runs inside) and waits until they are gone. */
  destroy(): Promise<void>;
  /**
   * What a reboot does to a lab host (stop its executor first): every namespace Labnet made
   * (sandboxes, machines and their nodes) and their user-namespace pins go, and in the host
   * namespace Labnet's links and every iptables rule, with ip_forward back to 0. The host
   * namespace and its uplink (the machine's own configuration) stay.
   */
  wipe(): Promise<void>;
}

export interface ExecOptions {
  /** Killed after this long (default 10 s); the result then has `timedOut` and code 124. */
  timeoutMs?: number;
  input?: string;
}

const liveHosts = new Set<SimHost>();

/**
 * Creates a simulated lab host `<runPrefix><name>` with lo up. With `withOutside`, also a second
 * namespace `<runPrefix>out<index>` joined by a veth pair (`uplink0` 198.18.<index>.1/24 in the
 * host, `eth0` 198.18.<index>.2/24 outside) and a default route via the outside, so the host has
 * an outside world to MASQUERADE to. Use a distinct `index` (0-255) per host within a file.
 */
export async function createSimHost(
  runPrefix: string,
  name: string,
  options: { withOutside?: boolean; index?: number } = {},
): Promise<SimHost> {
  const index = options.index ?? 0;
  if (!Number.isInteger(index) || index < 0 || index > 255) {
    throw new Error(`index must be 0-255, got ${index}`);
  }
  const hostNetns = `${runPrefix}${name}`;
  const outsideNetns = options.withOutside ? `${runPrefix}out${index}` : undefined;
  if (outsideNetns) {
    await createUplinkedNetns({
      hostNetns,
      outsideNetns,
      hostAddress: `198.18.${index}.1/24`,
      outsideAddress: `198.18.${index}.2/24`,
    });
  } else {
    await addNetns(hostNetns);
  }
  const host: SimHost = {
    hostNetns,
    outsideNetns,
    uplinkAddress: outsideNetns ? `198.18.${index}.1` : undefined,
    outsideAddress: outsideNetns ? `198.18.${index}.2` : undefined,
    exec: (netns, argv, execOptions) => execIn(netns, argv, execOptions),
    destroy: async () => {
      liveHosts.delete(host);
      const { sandboxes, prefixes } = await labnetNetnsOf(hostNetns);
      const names = [...sandboxes, hostNetns, ...(outsideNetns ? [outsideNetns] : [])];
      // deleteNetns throws if a name is still there afterwards.
      for (const netns of names) {
        await killNetnsProcesses(netns);
        await deleteNetns(netns);
      }
      // The executor writes its sandboxes' resolver files there, and pins its machines' user
      // namespaces (named as the machines' namespaces, `<hostNetns>-...`); it is gone now.
      for (const prefix of prefixes) {
        await removeEtcNetns(prefix);
      }
      await removeUsernsPins(`${hostNetns}-`);
    },
    wipe: async () => {
      for (const netns of (await labnetNetnsOf(hostNetns)).sandboxes) {
        await killNetnsProcesses(netns);
        await deleteNetns(netns);
      }
      await removeUsernsPins(`${hostNetns}-`);
      const links = JSON.parse((await execIn(hostNetns, ["ip", "-j", "link", "show"])).stdout || "[]") as {
        ifname: string;
      }[];
      for (const { ifname } of links.filter((l) => /^(lnbr-|lnv)/.test(l.ifname))) {
        // A veth whose peer went with its sandbox (or its bridge's) is gone by now.
        await runCommand(["ip", "-n", hostNetns, "link", "del", ifname]);
      }
      for (const table of ["filter", "nat", "mangle", "raw"]) {
        await runCommandOrThrow(["ip", "netns", "exec", hostNetns, "iptables", "-t", table, "-F"]);
        await runCommandOrThrow(["ip", "netns", "exec", hostNetns, "iptables", "-t", table, "-X"]);
      }
      await runCommandOrThrow(["ip", "netns", "exec", hostNetns, "sysctl", "-qw", "net.ipv4.ip_forward=0"]);
    },
  };
  liveHosts.add(host);
  return host;
}

/** An L2 segment: a namespace `<runPrefix><name>` holding bridge `br0`, to join sim hosts (underlay). */
export interface SimLan {
  lanNetns: string;
  /** Adds a veth from the host (`ifName`, with `address` in CIDR form) to the LAN bridge. */
  attach(host: SimHost, options: { ifName?: string; address: string }): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * Creates a LAN namespace with a bridge, for tests that need two sim hosts on one L2 segment
 * (macvlan parents, vxlan underlay). Each attach makes one veth pair inside the host namespace
 * and moves its peer into the LAN; nothing is created in the caller's namespace.
 */
export async function createSimLan(runPrefix: string, name: string): Promise<SimLan> {
  const lanNetns = `${runPrefix}${name}`;
  await addNetns(lanNetns);
  try {
    await runCommandOrThrow(["ip", "-n", lanNetns, "-batch", "-"], {
      input: "link add br0 type bridge\nlink set br0 up\n",
    });
  } catch (error) {
    await deleteNetns(lanNetns);
    throw error;
  }
  let ports = 0;
  const lan: SimLan = {
    lanNetns,
    attach: async (host, { ifName = "eth0", address }) => {
      ports += 1;
      const port = `p${ports}`;
      await runCommandOrThrow(["ip", "-n", host.hostNetns, "-batch", "-"], {
        input: `link add ${ifName} type veth peer name ${port} netns ${lanNetns}\naddr add ${address} dev ${ifName}\nlink set ${ifName} up\n`,
      });
      await runCommandOrThrow(["ip", "-n", lanNetns, "link", "set", port, "master", "br0", "up"]);
    },
    destroy: async () => {
      liveLans.delete(lan);
      await killNetnsProcesses(lanNetns);
      await deleteNetns(lanNetns);
    },
  };
  liveLans.add(lan);
  return lan;
}

const liveLans = new Set<SimLan>();

/**
 * Runs a one-shot command in a namespace (`ip netns exec`) and returns code/stdout/stderr; never
 * throws for a failing command. Not for long-running processes: use startTestProcess with
 * `nsenter --net=` for those.
 */
export function execIn(
  netns: string,
  argv: readonly string[],
  options: ExecOptions = {},
): Promise<CommandResult> {
  return runCommand(["ip", "netns", "exec", netns, ...argv], {
    timeoutMs: options.timeoutMs ?? 10_000,
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
}

/** The namespace name of a node's `sandboxKey` (`/run/netns/<name>`); "" when there is none. */
export function netnsOf(sandboxKey: string | undefined): string {
  return (sandboxKey ?? "").replace("/run/netns/", "");
}

/** One ICMP echo from a namespace; true when a reply came back within `timeoutSec`. */
export async function ping(
  fromNetns: string,
  address: string,
  options: { count?: number; timeoutSec?: number } = {},
): Promise<boolean> {
  const count = options.count ?? 1;
  const wait = options.timeoutSec ?? 2;
  const result = await execIn(
    fromNetns,
    ["ping", "-n", "-q", "-c", String(count), "-W", String(wait), address],
    {
      timeoutMs: (count * wait + 5) * 1_000,
    },
  );
  return result.code === 0;
}

/**
 * The namespaces a sim host's executor made: its sandboxes `<hostNetns>-...` and its virtual
 * machines' nodes' `<hostNetns>m<8 id chars>-...`, with the prefixes they were made under.
 */
async function labnetNetnsOf(hostNetns: string): Promise<{ sandboxes: string[]; prefixes: string[] }> {
  const machineNodes = new RegExp(`^${hostNetns.replace(/[.]/g, "\\.")}m[a-z2-7]{8}-`);
  const machineSandboxes = (await listNetns(`${hostNetns}m`)).filter((n) => machineNodes.test(n));
  const prefixes = new Set(machineSandboxes.map((n) => n.slice(0, n.lastIndexOf("-") + 1)));
  return {
    sandboxes: [...machineSandboxes, ...(await listNetns(`${hostNetns}-`))],
    prefixes: [`${hostNetns}-`, ...prefixes],
  };
}

async function killNetnsProcesses(netns: string): Promise<void> {
  for (const pid of await listNetnsPids(netns)) {
    if (pid !== process.pid) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }
}

/** Destroys every sim host and LAN this file created and did not destroy (the per-file safety net). */
export async function destroySimNetworks(): Promise<void> {
  for (const host of [...liveHosts]) {
    await host.destroy();
  }
  for (const lan of [...liveLans]) {
    await lan.destroy();
  }
}
