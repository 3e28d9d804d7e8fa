/**
 * The subnets a machine already has on links that are not Labnet's bridges: a lab host's
 * uplink (and whatever else its executor found on its own interfaces), a virtual machine's
 * `eth0` on its LAN. A bridge network on one of them would take the machine's own traffic:
 * the bridge gets the uplink's address, a node the outside router's. So a network's subnets
 * must not overlap them, and a pool pick avoids them.
 */
import { type Db, type HostRow, machineUplinks } from "@labnet/db";
import { type Cidr, cidrOf, cidrsOverlap, formatCidr, parseCidr, parseIpv4 } from "@labnet/ipam";
import type { FieldError } from "../errors";

/** One subnet of the machine's own, and what holds it (said in problems). */
export interface OwnSubnet {
  cidr: Cidr;
  /** `interface uplink0 (198.18.0.1/24)`, `LAN lan-a (eth0)`. */
  what: string;
}

/** An address with its prefix (`198.18.0.1/24`) as the subnet it lies in. */
function subnetOf(address: string): Cidr | undefined {
  const [addr, prefix] = address.split("/");
  const n = addr === undefined ? undefined : parseIpv4(addr);
  const p = Number(prefix);
  return n === undefined || !Number.isInteger(p) || p < 0 || p > 32 ? undefined : cidrOf(n, p);
}

/** The subnets of `host`'s own links (see the module comment). */
export async function ownSubnetsOf(db: Db, host: HostRow): Promise<OwnSubnet[]> {
  if (host.kind === "virtual") {
    const uplink = (await machineUplinks(db, [host.id])).get(host.id);
    const lan = uplink ? parseCidr(uplink.subnet) : undefined;
    return lan?.ok && uplink ? [{ cidr: lan.cidr, what: `LAN ${uplink.lanName} (eth0)` }] : [];
  }
  const own: OwnSubnet[] = [];
  for (const { interface: name, address } of host.capabilities.addresses ?? []) {
    const cidr = subnetOf(address);
    if (cidr) {
      own.push({ cidr, what: `interface ${name} (${address})` });
    }
  }
  const underlay = host.underlayAddress === null ? undefined : parseIpv4(host.underlayAddress);
  if (underlay !== undefined) {
    own.push({ cidr: cidrOf(underlay, 32), what: `underlay address ${host.underlayAddress}` });
  }
  return own;
}

/**
 * A field error for each of `subnets` (canonical CIDRs, at `locationOf(i)`) that overlaps one of
 * the machine's own subnets.
 */
export function ownSubnetConflicts(
  subnets: readonly string[],
  own: readonly OwnSubnet[],
  locationOf: (index: number) => string,
  machine: string,
): FieldError[] {
  return subnets.flatMap((subnet, i) => {
    const parsed = parseCidr(subnet);
    const clash = parsed.ok ? own.find((o) => cidrsOverlap(o.cidr, parsed.cidr)) : undefined;
    return clash
      ? [
          {
            location: locationOf(i),
            message: `subnet ${subnet} overlaps ${formatCidr(clash.cidr)} of ${machine}'s ${clash.what}: its own traffic would go to the bridge`,
          },
        ]
      : [];
  });
}
