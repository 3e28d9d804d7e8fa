/**
 * The overlay driver's kernel side on one machine: the overlay's bridge (a desired bridge
 * without an address) gets a vxlan device over the machine's underlay link (`eth0` on its LAN),
 * and the vxlan's own forwarding table is programmed from Postgres: an all-zeros entry per
 * remote VTEP (head-end replication of broadcast and ARP, so no multicast is needed) and an
 * entry per remote endpoint's MAC. Nothing is learned (`nolearning`): an endpoint that leaves
 * loses its entry with the next converge, not after an ageing timeout.
 *
 * Forwarding entries are rendered for one `bridge -batch -` process per machine, as a
 * difference against what `bridge -j fdb show dev <vxlan>` reported.
 */
import type { DesiredOverlay } from "./desired";
import { isLabnetBridge, isLabnetVxlan, isValidIfName, vxlanName } from "./names";
import type { ObservedFdbEntry, ObservedLink, ObservedNeighbour } from "./observed";
import { parseJsonDocuments } from "./parse-ip-json";
import { isIpv4, isUnicastMac, isValidMtu } from "./validate";

/** The IANA VXLAN port, which Linux does not default to (it uses 8472 unless told). */
export const VXLAN_PORT = 4789;

/** Docker's overlay MTU: a 1500-byte underlay less 50 bytes of VXLAN encapsulation. */
export const OVERLAY_MTU = 1450;

/** The MAC of a vxlan device's default entries: frames no other entry matches go to each of them. */
export const FLOOD_MAC = "00:00:00:00:00:00";

/** Host-batch lines for one overlay's vxlan device. */
export interface OverlayLinkPlan {
  /** Lines that free the name first (`link del`): a device of the wrong kind or VNI. */
  deletes: string[];
  /** Creation or drift repair, after the bridges exist. */
  lines: string[];
  /** The device is (re)made by these lines: its forwarding table starts empty. */
  created: boolean;
}

/**
 * Plans the vxlan device of `overlay` against the observed link of that name, if any.
 *
 * @example
 * planOverlayLink(overlay, undefined).lines
 * // ["link add lnvx-257 mtu 1450 type vxlan id 257 dev eth0 dstport 4789 nolearning proxy",
 * //  "link set lnvx-257 addrgenmode none", "link set lnvx-257 master lnbr-abcdefgh up"]
 */
export function planOverlayLink(
  overlay: DesiredOverlay,
  existing: ObservedLink | undefined,
): OverlayLinkPlan {
  const name = overlay.vxlan;
  const fits =
    existing?.kind === "vxlan" &&
    (existing.vxlanId === undefined || existing.vxlanId === overlay.vni) &&
    existing.vxlanProxy !== false;
  if (existing === undefined || !fits) {
    return {
      deletes: existing === undefined ? [] : [`link del ${name}`],
      lines: [
        `link add ${name} mtu ${overlay.mtu} type vxlan id ${overlay.vni} dev ${overlay.underlay} dstport ${VXLAN_PORT} nolearning proxy`,
        `link set ${name} addrgenmode none`,
        `link set ${name} master ${overlay.bridge} up`,
      ],
      created: true,
    };
  }
  const lines: string[] = [];
  if (existing.mtu !== overlay.mtu) {
    lines.push(`link set ${name} mtu ${overlay.mtu}`);
  }
  if (existing.master !== overlay.bridge) {
    lines.push(`link set ${name} master ${overlay.bridge}`);
  }
  if (!existing.up) {
    lines.push(`link set ${name} up`);
  }
  return { deletes: [], lines, created: false };
}

/** The forwarding entries `overlay` wants on its vxlan device, flood entries first. */
export function desiredFdbOf(overlay: DesiredOverlay): ObservedFdbEntry[] {
  return [
    ...[...new Set(overlay.vteps)].sort().map((dst) => ({ mac: FLOOD_MAC, dst })),
    ...overlay.remotes.map((r) => ({ mac: r.mac, dst: r.vtep })),
  ];
}

/**
 * `bridge -batch` lines that turn the vxlan device's observed own entries into the desired
 * ones: stale entries deleted first, then missing ones added (flood entries appended, since a
 * device holds one per VTEP; a MAC's entry replaced, which also moves it to another VTEP).
 *
 * @example
 * planOverlayFdb(overlay, [])
 * // ["fdb append 00:00:00:00:00:00 dev lnvx-257 dst 10.1.0.12",
 * //  "fdb replace 02:42:ac:10:00:02 dev lnvx-257 dst 10.1.0.12"]
 */
export function planOverlayFdb(overlay: DesiredOverlay, observed: readonly ObservedFdbEntry[]): string[] {
  const key = (e: ObservedFdbEntry) => `${e.mac} ${e.dst}`;
  const desired = desiredFdbOf(overlay);
  const wanted = new Set(desired.map(key));
  const present = new Set(observed.map(key));
  const dev = overlay.vxlan;
  const deletes = observed
    .filter((e) => !wanted.has(key(e)))
    .map((e) => `fdb del ${e.mac} dev ${dev} dst ${e.dst}`);
  const adds = desired
    .filter((e) => !present.has(key(e)))
    .map((e) => `fdb ${e.mac === FLOOD_MAC ? "append" : "replace"} ${e.mac} dev ${dev} dst ${e.dst}`);
  return [...new Set(deletes), ...adds];
}

/**
 * Host-batch lines that turn the vxlan device's observed permanent neighbour entries into one
 * per remote endpoint (`address` at its MAC), so the device answers the local nodes' ARP for
 * them itself (`proxy`) instead of flooding the request to every VTEP.
 *
 * @example
 * planOverlayNeighbours(overlay, [])
 * // ["neigh replace 172.16.0.2 lladdr 02:42:ac:10:00:02 dev lnvx-257 nud permanent"]
 */
export function planOverlayNeighbours(
  overlay: DesiredOverlay,
  observed: readonly ObservedNeighbour[],
): string[] {
  const dev = overlay.vxlan;
  const wanted = new Map(overlay.remotes.map((r) => [r.address, r.mac]));
  const present = new Map(observed.map((n) => [n.address, n.mac]));
  const deletes = observed
    .filter((n) => !wanted.has(n.address))
    .map((n) => `neigh del ${n.address} dev ${dev}`);
  const adds = [...wanted]
    .filter(([address, mac]) => present.get(address) !== mac)
    .map(([address, mac]) => `neigh replace ${address} lladdr ${mac} dev ${dev} nud permanent`);
  return [...new Set(deletes), ...adds];
}

/**
 * The permanent IPv4 entries of `ip -j neigh show dev <vxlan>` (what Labnet programs there).
 *
 * @example parseVxlanNeighJson('[{"dst":"172.16.0.2","lladdr":"02:42:ac:10:00:02","state":["PERMANENT"]}]')
 * // [{ address: "172.16.0.2", mac: "02:42:ac:10:00:02" }]
 */
export function parseVxlanNeighJson(text: string): ObservedNeighbour[] {
  const entries: ObservedNeighbour[] = [];
  for (const document of parseJsonDocuments(text)) {
    if (!Array.isArray(document)) {
      throw new Error("ip -j neigh show: want an array");
    }
    for (const entry of document as unknown[]) {
      if (typeof entry !== "object" || entry === null) {
        throw new Error("ip -j neigh show: want objects");
      }
      const { dst, lladdr, state } = entry as Record<string, unknown>;
      if (typeof dst !== "string" || typeof lladdr !== "string" || !Array.isArray(state)) {
        continue;
      }
      const mac = lladdr.toLowerCase();
      if (state.includes("PERMANENT") && isIpv4(dst) && isUnicastMac(mac)) {
        entries.push({ address: dst, mac });
      }
    }
  }
  return entries;
}

/**
 * The own entries of `bridge -j fdb show dev <vxlan>`: those with a `dst` (a VTEP) and no
 * `master` (entries of the bridge the device is a port of are the bridge's business). Entries
 * whose values could not be put back on a batch line are left out (Labnet never made them).
 *
 * @example parseVxlanFdbJson('[{"mac":"00:00:00:00:00:00","dst":"10.1.0.12","flags":["self"]}]')
 * // [{ mac: "00:00:00:00:00:00", dst: "10.1.0.12" }]
 */
export function parseVxlanFdbJson(text: string): ObservedFdbEntry[] {
  const entries: ObservedFdbEntry[] = [];
  for (const document of parseJsonDocuments(text)) {
    if (!Array.isArray(document)) {
      throw new Error("bridge -j fdb show: want an array");
    }
    for (const entry of document as unknown[]) {
      if (typeof entry !== "object" || entry === null) {
        throw new Error("bridge -j fdb show: want objects");
      }
      const record = entry as Record<string, unknown>;
      const { mac, dst, master } = record;
      if (typeof mac !== "string" || typeof dst !== "string" || master !== undefined) {
        continue;
      }
      const lower = mac.toLowerCase();
      if (isIpv4(dst) && (lower === FLOOD_MAC || isUnicastMac(lower))) {
        entries.push({ mac: lower, dst });
      }
    }
  }
  return entries;
}

/** Throws on the first value of an overlay that must not reach `ip` or `bridge`. */
export function assertValidOverlay(overlay: DesiredOverlay, bridges: ReadonlySet<string>): void {
  const where = `overlay ${JSON.stringify(overlay.networkId)}`;
  let name: string | undefined;
  try {
    name = vxlanName(overlay.vni);
  } catch {
    fail(`${where} vni`, overlay.vni);
  }
  if (overlay.vxlan !== name || !isLabnetVxlan(overlay.vxlan)) {
    fail(`${where} vxlan`, overlay.vxlan);
  }
  if (!isLabnetBridge(overlay.bridge) || !bridges.has(overlay.bridge)) {
    fail(`${where} bridge (not a desired bridge)`, overlay.bridge);
  }
  if (!isValidIfName(overlay.underlay)) {
    fail(`${where} underlay`, overlay.underlay);
  }
  if (!isValidMtu(overlay.mtu)) {
    fail(`${where} mtu`, overlay.mtu);
  }
  for (const vtep of overlay.vteps) {
    if (!isIpv4(vtep)) {
      fail(`${where} vtep`, vtep);
    }
  }
  for (const remote of overlay.remotes) {
    if (!isUnicastMac(remote.mac)) {
      fail(`${where} remote mac`, remote.mac);
    }
    if (!isIpv4(remote.vtep)) {
      fail(`${where} remote vtep`, remote.vtep);
    }
    if (!isIpv4(remote.address)) {
      fail(`${where} remote address`, remote.address);
    }
  }
}

function fail(what: string, value: unknown): never {
  throw new Error(`invalid desired state: ${what}: ${JSON.stringify(value)}`);
}
