import type { Cidr } from "./cidr";
import { cidrSize, cidrsOverlap, formatCidr, parseCidr, requireCidr } from "./cidr";
import { reservedSubnetProblem } from "./reserved";

/** A pool networks are carved from: `base` split into subnets of prefix length `size`. */
export interface AddressPool {
  /** Canonical CIDR, e.g. `172.18.0.0/16`. */
  base: string;
  /** Prefix length of each subnet handed out, at least the base's prefix. */
  size: number;
}

/** Result of {@link parseAddressPools}. */
export type ParseAddressPoolsResult = { ok: true; pools: AddressPool[] } | { ok: false; message: string };

/** The default bridge network, Docker's docker0: 172.17.0.0/16. */
export const DEFAULT_BRIDGE_SUBNET = "172.17.0.0/16";

/** Gateway of the default bridge network: 172.17.0.1. */
export const DEFAULT_BRIDGE_GATEWAY = "172.17.0.1";

/**
 * Docker's default address pools (172.17.0.0/16 … 172.31.0.0/16 as one /16 each, then
 * 192.168.0.0/16 in /20s: 31 networks, the first of which the default bridge takes), then
 * 10.128.0.0/9 in /24s. Docker's come first so a scope's first networks get Docker's
 * addresses; the /24s are there because one lab host serving a class on its own networks
 * needs hundreds (32,768 more), and they stay clear of {@link DEFAULT_LAN_POOLS}.
 */
export const DEFAULT_ADDRESS_POOLS: readonly AddressPool[] = Object.freeze([
  ...Array.from({ length: 15 }, (_, i) => ({ base: `172.${17 + i}.0.0/16`, size: 16 })),
  { base: "192.168.0.0/16", size: 20 },
  { base: "10.128.0.0/9", size: 24 },
]);

/**
 * Where LANs (the lab host's networks that machines join) get their subnet: 10.0.0.0/24
 * first, as the seeds' LAN; 32,768 of them, apart from {@link DEFAULT_ADDRESS_POOLS}.
 */
export const DEFAULT_LAN_POOLS: readonly AddressPool[] = Object.freeze([{ base: "10.0.0.0/9", size: 24 }]);

/**
 * Parses pools written like Docker's `--default-address-pool`, several joined by `;`:
 * `base=172.17.0.0/16,size=16;base=10.10.0.0/16,size=24`. Whitespace around parts is
 * ignored and so is a trailing `;`. The error message names the offending pool.
 */
export function parseAddressPools(spec: string): ParseAddressPoolsResult {
  const parts = spec
    .split(";")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  if (parts.length === 0) {
    return { ok: false, message: "no address pool given" };
  }
  const pools: AddressPool[] = [];
  for (const [index, part] of parts.entries()) {
    const pool = parseAddressPool(part);
    if (typeof pool === "string") {
      return { ok: false, message: `invalid address pool ${index + 1} "${part}": ${pool}` };
    }
    pools.push(pool);
  }
  return { ok: true, pools };
}

/** One `base=…,size=…` part; a string is the reason it is invalid. */
function parseAddressPool(part: string): AddressPool | string {
  const fields = new Map<string, string>();
  for (const field of part.split(",")) {
    const eq = field.indexOf("=");
    const key = (eq === -1 ? field : field.slice(0, eq)).trim();
    if (eq === -1) {
      return `expected key=value, got "${field.trim()}"`;
    }
    if (key !== "base" && key !== "size") {
      return `unknown key "${key}" (expected base and size)`;
    }
    if (fields.has(key)) {
      return `${key} given twice`;
    }
    fields.set(key, field.slice(eq + 1).trim());
  }
  const base = fields.get("base");
  const sizeText = fields.get("size");
  if (base === undefined) {
    return "base is missing";
  }
  if (sizeText === undefined) {
    return "size is missing";
  }
  const parsed = parseCidr(base, "base");
  if (!parsed.ok) {
    return parsed.message;
  }
  const reserved = reservedSubnetProblem(parsed.cidr);
  if (reserved !== undefined) {
    return `base ${base}: ${reserved}`;
  }
  const size = /^[0-9]{1,2}$/.test(sizeText) ? Number(sizeText) : Number.NaN;
  if (!(size >= parsed.cidr.prefix && size <= 32)) {
    return `size ${sizeText} must be a prefix length between ${parsed.cidr.prefix} and 32`;
  }
  return { base, size };
}

/**
 * Candidate subnets in allocation order: each pool in turn, its base split into subnets
 * of `size` from the lowest address up. Lazy, since a /8 in /24s is 65,536 candidates.
 * Throws a RangeError for a pool that {@link parseAddressPools} would have refused.
 *
 * @example [...enumeratePoolSubnets([{ base: "192.168.0.0/16", size: 20 }])].slice(0, 2)
 * // ["192.168.0.0/20", "192.168.16.0/20"]
 */
export function* enumeratePoolSubnets(pools: readonly AddressPool[]): Generator<string, void, undefined> {
  for (const cidr of enumeratePoolCidrs(pools)) {
    yield formatCidr(cidr);
  }
}

function* enumeratePoolCidrs(pools: readonly AddressPool[]): Generator<Cidr, void, undefined> {
  for (const pool of pools) {
    const base = requireCidr(pool.base);
    if (!Number.isInteger(pool.size) || pool.size < base.prefix || pool.size > 32) {
      throw new RangeError(
        `address pool ${pool.base}: size ${pool.size} is not a prefix length in ${base.prefix}..32`,
      );
    }
    const step = cidrSize({ network: 0, prefix: pool.size });
    const end = base.network + cidrSize(base);
    for (let network = base.network; network < end; network += step) {
      yield { network, prefix: pool.size };
    }
  }
}

/**
 * The first pool subnet that overlaps none of `taken` (canonical CIDRs of the networks
 * already in the scope), or undefined when the pools are exhausted. The database's
 * exclusion constraint still decides races; this only picks the candidate.
 */
export function findFreeSubnet(pools: readonly AddressPool[], taken: readonly string[]): string | undefined {
  const takenCidrs = taken.map((s) => requireCidr(s));
  for (const cidr of enumeratePoolCidrs(pools)) {
    if (!takenCidrs.some((t) => cidrsOverlap(t, cidr))) {
      return formatCidr(cidr);
    }
  }
  return undefined;
}
