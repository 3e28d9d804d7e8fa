/**
 * Facts about the network namespace the executor runs in (its lab host), read from the
 * process's own view of /proc: a sysctl under /proc/sys/net and /proc/self/ns/net belong
 * to the namespace of the reading process. Nothing here changes anything.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { NETNS_DIR } from "./observe";

/** br_netfilter's switch: bridged IPv4 frames pass iptables (per network namespace). */
export const BRIDGE_NF_CALL_IPTABLES_PATH = "/proc/sys/net/bridge/bridge-nf-call-iptables";

/**
 * Whether bridged traffic of this namespace passes iptables, which icc=false (a
 * `-i BR -o BR -j DROP`) needs. False when br_netfilter is not loaded (no such file).
 */
export async function detectBridgeNetfilter(options: { path?: string } = {}): Promise<boolean> {
  try {
    return (await readFile(options.path ?? BRIDGE_NF_CALL_IPTABLES_PATH, "utf8")).trim() === "1";
  } catch {
    return false;
  }
}

export interface HostNetnsPathOptions {
  /** The namespace to find (default: this process's). */
  selfPath?: string;
  /** Where named namespaces live. */
  netnsDir?: string;
  /** The machine's root namespace (PID 1's). */
  initPath?: string;
}

/**
 * A path that names the namespace this process runs in, for nodes in network mode `host`
 * (their sandbox key): the `/run/netns/<name>` bind mount of a simulated host, else
 * `/proc/1/ns/net` when it is the machine's root namespace; undefined when neither
 * matches (a namespace without a name). Namespaces are compared by device and inode.
 */
export async function detectHostNetnsPath(options: HostNetnsPathOptions = {}): Promise<string | undefined> {
  const self = await stat(options.selfPath ?? "/proc/self/ns/net");
  const same = async (path: string) => {
    try {
      const other = await stat(path);
      return other.dev === self.dev && other.ino === self.ino;
    } catch {
      return false;
    }
  };
  const dir = options.netnsDir ?? NETNS_DIR;
  let names: string[] = [];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    // No named namespace on this machine.
  }
  for (const name of names) {
    const path = join(dir, name);
    if (await same(path)) {
      return path;
    }
  }
  const init = options.initPath ?? "/proc/1/ns/net";
  return (await same(init)) ? init : undefined;
}
