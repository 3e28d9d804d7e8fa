import type { Cidr } from "./cidr";
import {
  broadcastOf,
  cidrContains,
  cidrContainsCidr,
  firstUsable,
  formatCidr,
  isUsable,
  lastUsable,
  parseCidr,
  requireCidr,
  withPrefix,
} from "./cidr";
import { formatIpv4, parseIpv4, requireIpv4 } from "./ipv4";
import { reservedSubnetProblem } from "./reserved";

/** One IPAM config of a network as a client asks for it. */
export interface IpamConfigInput {
  subnet: string;
  gateway?: string;
  ipRange?: string;
  /** Addresses reserved by name (Docker's `--aux-address`), never handed out. */
  auxAddresses?: Record<string, string>;
}

/** A validated IPAM config with defaults filled in. */
export interface IpamConfig {
  /** Canonical CIDR, e.g. `172.18.0.0/16`. */
  subnet: string;
  /** e.g. `172.18.0.1`. */
  gateway: string;
  /** Canonical CIDR inside the subnet that dynamic addresses come from. */
  ipRange?: string;
  /** The subnet's prefix length. */
  prefix: number;
  /** Gateway in interface notation, e.g. `172.18.0.1/16`. */
  gatewayWithPrefix: string;
  auxAddresses: Record<string, string>;
}

/** A problem with one input field; `field` is relative (`gateway`, `auxAddresses.<name>`). */
export interface IpamFieldError {
  field: string;
  message: string;
}

/** Result of {@link resolveIpamConfig}. */
export type ResolveIpamConfigResult =
  | { ok: true; config: IpamConfig }
  | { ok: false; errors: IpamFieldError[] };

/**
 * Validates an IPAM config the way Docker does and fills in the gateway.
 *
 * - `subnet` must be canonical CIDR (`172.18.0.1/16` is refused: "it should be 172.18.0.0/16")
 *   and clear of the address space no lab host may route to a bridge (reserved.ts).
 * - `gateway` defaults to the subnet's first usable address; a given one must lie in the
 *   subnet and be neither its network nor its broadcast address.
 * - `ipRange` must be canonical CIDR inside the subnet with at least one usable address.
 *   The gateway need not lie in it.
 * - each aux address must lie in the subnet.
 *
 * Every problem is reported, not only the first; when the subnet itself is unusable the
 * other fields are only checked for syntax. Messages follow Docker's wording.
 */
export function resolveIpamConfig(input: IpamConfigInput): ResolveIpamConfigResult {
  const errors: IpamFieldError[] = [];
  const parsed = parseCidr(input.subnet, "subnet");
  const reserved = parsed.ok ? reservedSubnetProblem(parsed.cidr) : undefined;
  if (!parsed.ok) {
    errors.push({ field: "subnet", message: parsed.message });
  } else if (reserved !== undefined) {
    errors.push({ field: "subnet", message: `invalid subnet ${input.subnet}: ${reserved}` });
  }
  const subnet = parsed.ok && reserved === undefined ? parsed.cidr : undefined;

  if (input.gateway !== undefined) {
    const problem = checkAddress(input.gateway, subnet, { hostOnly: true });
    if (problem !== undefined) {
      errors.push({ field: "gateway", message: `invalid gateway ${input.gateway}: ${problem}` });
    }
  }
  if (input.ipRange !== undefined) {
    const message = checkIpRange(input.ipRange, subnet);
    if (message !== undefined) {
      errors.push({ field: "ipRange", message });
    }
  }
  const auxAddresses = input.auxAddresses ?? {};
  for (const [name, value] of Object.entries(auxAddresses)) {
    const problem = checkAddress(value, subnet, { hostOnly: false });
    if (problem !== undefined) {
      errors.push({
        field: `auxAddresses.${name}`,
        message: `invalid auxiliary address ${name}: ${problem}`,
      });
    }
  }

  if (subnet === undefined || errors.length > 0) {
    return { ok: false, errors };
  }
  const gateway = input.gateway === undefined ? firstUsable(subnet) : requireIpv4(input.gateway);
  return {
    ok: true,
    config: {
      subnet: formatCidr(subnet),
      gateway: formatIpv4(gateway),
      ...(input.ipRange !== undefined && { ipRange: input.ipRange }),
      prefix: subnet.prefix,
      gatewayWithPrefix: withPrefix(gateway, subnet.prefix),
      auxAddresses: { ...auxAddresses },
    },
  };
}

/**
 * Why `text` cannot stand in `subnet`, or undefined if it can. Without a subnet (it was
 * itself invalid) only the syntax is checked. `hostOnly` also refuses the network and
 * broadcast addresses, which no interface may carry.
 */
function checkAddress(
  text: string,
  subnet: Cidr | undefined,
  { hostOnly }: { hostOnly: boolean },
): string | undefined {
  const addr = parseIpv4(text);
  if (addr === undefined) {
    return "invalid address";
  }
  if (subnet === undefined) {
    return undefined;
  }
  if (!cidrContains(subnet, addr)) {
    return `parent subnet ${formatCidr(subnet)} doesn't contain this address`;
  }
  if (hostOnly && !isUsable(subnet, addr)) {
    const which = addr === broadcastOf(subnet) ? "broadcast" : "network";
    return `it is the ${which} address of ${formatCidr(subnet)}`;
  }
  return undefined;
}

function checkIpRange(ipRange: string, subnet: Cidr | undefined): string | undefined {
  const parsed = parseCidr(ipRange, "ip-range");
  if (!parsed.ok || subnet === undefined) {
    return parsed.ok ? undefined : parsed.message;
  }
  const range = parsed.cidr;
  const prefix = `invalid ip-range ${ipRange}`;
  if (range.prefix < subnet.prefix) {
    return `${prefix}: CIDR block is bigger than its parent subnet ${formatCidr(subnet)}`;
  }
  if (!cidrContainsCidr(subnet, range)) {
    return `${prefix}: parent subnet ${formatCidr(subnet)} doesn't contain ip-range`;
  }
  // A /32 range on the subnet's network or broadcast address would leave nothing to hand out.
  if (clampedRange(subnet, range) === undefined) {
    return `${prefix}: it holds no usable address of subnet ${formatCidr(subnet)}`;
  }
  return undefined;
}

/** Usable addresses of `range` that are also usable in `subnet`, or undefined if none. */
function clampedRange(subnet: Cidr, range: Cidr): { first: number; last: number } | undefined {
  const first = Math.max(firstUsable(range), firstUsable(subnet));
  const last = Math.min(lastUsable(range), lastUsable(subnet));
  return first <= last ? { first, last } : undefined;
}

/**
 * The addresses handed out dynamically, in order: the first to the last usable address
 * of the ip range (or of the subnet without one), never the subnet's network or broadcast
 * address. The gateway and aux addresses are not cut out: they are allocated up front
 * and simply count as used, so with the default gateway endpoints start at .2.
 *
 * @example dynamicRange(config) // { first: "172.18.0.1", last: "172.18.255.254" }
 */
export function dynamicRange(config: IpamConfig): { first: string; last: string } {
  const subnet = requireCidr(config.subnet);
  const range = config.ipRange === undefined ? subnet : requireCidr(config.ipRange);
  const clamped = clampedRange(subnet, range);
  if (clamped === undefined) {
    throw new RangeError(`ip-range ${config.ipRange} holds no usable address`);
  }
  return { first: formatIpv4(clamped.first), last: formatIpv4(clamped.last) };
}

/**
 * Why a static address was refused: `outside` the subnet (another config of the network may
 * hold it), or in it but not for an endpoint (`reserved`: network, broadcast, gateway or aux
 * address); `invalid` when it is no IPv4 address at all. `message` is for people.
 */
export interface StaticAddressProblem {
  reason: "invalid" | "outside" | "reserved";
  message: string;
}

/**
 * Why `addr` cannot be given to an endpoint statically (Docker's `--ip`), or undefined
 * when it can. It must be a usable address of the subnet and not the gateway or an aux
 * address; it may lie outside the ip range, which only bounds dynamic allocation.
 * Whether another endpoint already holds it is the database's unique constraint to say.
 */
export function validateStaticAddress(config: IpamConfig, addr: string): StaticAddressProblem | undefined {
  const n = parseIpv4(addr);
  if (n === undefined) {
    return { reason: "invalid", message: `invalid address ${addr}: not an IPv4 address` };
  }
  const subnet = requireCidr(config.subnet);
  const problem = checkAddress(addr, subnet, { hostOnly: true });
  if (problem !== undefined) {
    const reason = cidrContains(subnet, n) ? "reserved" : "outside";
    return { reason, message: `invalid address ${addr}: ${problem}` };
  }
  if (n === parseIpv4(config.gateway)) {
    return { reason: "reserved", message: `invalid address ${addr}: it is the gateway of ${config.subnet}` };
  }
  const aux = Object.entries(config.auxAddresses).find(([, value]) => parseIpv4(value) === n);
  if (aux !== undefined) {
    return {
      reason: "reserved",
      message: `invalid address ${addr}: it is reserved as auxiliary address ${aux[0]}`,
    };
  }
  return undefined;
}
