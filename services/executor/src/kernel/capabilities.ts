/**
 * What this kernel can build, found by trying it in a throwaway network namespace (so
 * the host itself is never touched). Reported with the host record, so an unsupported
 * driver is refused at the API instead of failing a job later.
 */
import { randomBytes } from "node:crypto";
import {
  isLabnetBridge,
  isLabnetHostVeth,
  isLabnetMacvlanTemp,
  isLabnetOwnedBridge,
  isLabnetTempPeer,
  isValidIfName,
  isValidNetnsName,
  isValidNetnsPrefix,
  parseIpAddrJson,
} from "@labnet/netplan";
import { type Runner, runOrThrow } from "./runner";

/** Link types Labnet may use, in reporting order. */
export const PROBED_LINK_TYPES = ["bridge", "veth", "macvlan", "vxlan", "ipvlan", "vlan", "dummy"] as const;

export type LinkType = (typeof PROBED_LINK_TYPES)[number];

export interface Capabilities {
  /** Link types the kernel created in the probe. */
  linkTypes: LinkType[];
  /**
   * Network drivers Labnet can create networks of here (what `POST /v1/networks` takes as
   * `driver`): bridge always; macvlan, overlay when the kernel has their link types. `host` and
   * `none` are network modes of nodes, not drivers one creates.
   */
  drivers: string[];
  /** Whether `iptables-restore` works (nat MASQUERADE and conntrack). */
  iptables: boolean;
  /**
   * The host's own interfaces (what a macvlan network may name as its `parent`): every link
   * of the host namespace but lo and Labnet's own, sorted. Absent when they could not be listed.
   */
  interfaces?: string[];
  /**
   * The IPv4 addresses of those interfaces with their prefix (`198.18.0.1/24` on the uplink):
   * no bridge of the host may overlap their subnets. Absent when they could not be listed.
   */
  addresses?: HostAddress[];
}

/** One IPv4 address of one of the host's own interfaces. */
export interface HostAddress {
  interface: string;
  /** With its prefix, `a.b.c.d/p`. */
  address: string;
}

export interface DetectOptions {
  /** Prefix for the throwaway namespace (the executor's sandbox prefix, so a leftover is pruned). */
  netnsPrefix: string;
}

// Exercises the matches and targets Labnet renders (conntrack, MASQUERADE in nat).
const IPTABLES_PROBE = [
  "*nat",
  ":LABNET-PROBE - [0:0]",
  "-A POSTROUTING -j LABNET-PROBE",
  "-A LABNET-PROBE -s 10.0.0.0/24 ! -o lo -j MASQUERADE",
  "COMMIT",
  "*filter",
  ":LABNET-PROBE - [0:0]",
  "-I FORWARD 1 -j LABNET-PROBE",
  "-A LABNET-PROBE -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
  "COMMIT",
  "",
].join("\n");

/**
 * Probes link types and iptables in a namespace `<prefix>probe-<random>`, deleted
 * afterwards (also when a probe throws).
 *
 * @example const { drivers } = await detectCapabilities(runner, { netnsPrefix: "ln-" });
 */
export async function detectCapabilities(runner: Runner, options: DetectOptions): Promise<Capabilities> {
  if (!isValidNetnsPrefix(options.netnsPrefix)) {
    throw new Error(`invalid netns prefix: ${JSON.stringify(options.netnsPrefix)}`);
  }
  const own = await listHostInterfaces(runner);
  const netns = `${options.netnsPrefix}probe-${randomBytes(5).toString("hex")}`;
  if (!isValidNetnsName(netns)) {
    throw new Error(`invalid probe netns name: ${JSON.stringify(netns)}`);
  }
  await runOrThrow(runner, ["ip", "netns", "add", netns]);
  try {
    const linkTypes = await probeLinkTypes(runner, netns);
    const iptables = await probeIptables(runner, netns);
    return {
      linkTypes,
      drivers: driversFor(linkTypes),
      iptables,
      ...(own === undefined ? {} : own),
    };
  } finally {
    await runner.run(["ip", "netns", "del", netns]);
  }
}

/**
 * Links of the namespace the runner is in (the host: read only, `ip -j -d addr show`), without
 * lo and the links Labnet makes, and their IPv4 addresses; undefined when they cannot be
 * listed, so the API accepts any parent rather than none.
 */
async function listHostInterfaces(
  runner: Runner,
): Promise<{ interfaces: string[]; addresses: HostAddress[] } | undefined> {
  try {
    // -d for ifalias: a bridge Labnet built under a chosen name is not the host's own.
    const result = await runner.run(["ip", "-j", "-d", "addr", "show"]);
    if (result.code !== 0) {
      return undefined;
    }
    const links = parseIpAddrJson(result.stdout)
      .filter(
        (link) =>
          link.name !== "lo" &&
          isValidIfName(link.name) &&
          !isLabnetLink(link.name) &&
          !isLabnetOwnedBridge(link),
      )
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return {
      interfaces: links.map((link) => link.name),
      addresses: links.flatMap((link) =>
        link.addresses.map((address) => ({ interface: link.name, address })),
      ),
    };
  } catch {
    return undefined;
  }
}

function isLabnetLink(name: string): boolean {
  return (
    isLabnetBridge(name) || isLabnetHostVeth(name) || isLabnetTempPeer(name) || isLabnetMacvlanTemp(name)
  );
}

async function probeLinkTypes(runner: Runner, netns: string): Promise<LinkType[]> {
  const supported = new Set<LinkType>();
  const tryAdd = async (type: LinkType, args: string[]): Promise<void> => {
    const result = await runner.run(["ip", "-n", netns, "link", "add", ...args]);
    if (result.code === 0) {
      supported.add(type);
    }
  };
  await tryAdd("bridge", ["pbr0", "type", "bridge"]);
  await tryAdd("veth", ["pve0", "type", "veth", "peer", "name", "pve1"]);
  await tryAdd("dummy", ["pdu0", "type", "dummy"]);
  await tryAdd("vxlan", ["pvx0", "type", "vxlan", "id", "42", "dstport", "4789"]);
  // These need a lower device; any Ethernet-like one made above will do.
  const parent = supported.has("veth")
    ? "pve0"
    : supported.has("bridge")
      ? "pbr0"
      : supported.has("dummy")
        ? "pdu0"
        : undefined;
  if (parent !== undefined) {
    await tryAdd("macvlan", ["pmv0", "link", parent, "type", "macvlan", "mode", "bridge"]);
    await tryAdd("ipvlan", ["piv0", "link", parent, "type", "ipvlan", "mode", "l2"]);
    await tryAdd("vlan", ["pvl0", "link", parent, "type", "vlan", "id", "42"]);
  }
  return PROBED_LINK_TYPES.filter((type) => supported.has(type));
}

async function probeIptables(runner: Runner, netns: string): Promise<boolean> {
  try {
    const result = await runner.run(
      ["nsenter", `--net=/run/netns/${netns}`, "--", "iptables-restore", "--noflush"],
      {
        stdin: IPTABLES_PROBE,
      },
    );
    return result.code === 0;
  } catch {
    // Not installed: the runner could not spawn it.
    return false;
  }
}

function driversFor(linkTypes: readonly LinkType[]): string[] {
  const drivers = ["bridge"];
  if (linkTypes.includes("macvlan")) {
    drivers.push("macvlan");
  }
  if (linkTypes.includes("vxlan")) {
    drivers.push("overlay");
  }
  return drivers;
}
