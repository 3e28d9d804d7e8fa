import { broadcastOf, cidrSize, cidrsOverlap, firstUsable, lastUsable, requireCidr } from "./cidr";
import type { IpamConfig } from "./ipam-config";
import { dynamicRange } from "./ipam-config";
import { requireIpv4 } from "./ipv4";
import type { AddressPool } from "./pools";

/** How much of one address pool a scope (a host) has used. */
export interface PoolUsage {
  /** Subnets the pool splits into: 2^(size - base prefix). */
  capacity: number;
  /** Pool subnets that overlap at least one taken subnet (no longer handed out). */
  used: number;
  free: number;
  /** The taken subnets that overlap the pool, in the order given. */
  overlapping: string[];
}

/**
 * How many of a pool's subnets are taken, given the subnets already in a scope. A taken
 * subnet counts against every pool subnet it overlaps: a /24 inside a pool of /20s uses
 * one /20, a /16 over a pool of /20s uses all it covers. Counted as index intervals, so
 * a /8 split into /24s costs nothing to measure.
 *
 * @example poolUsage({ base: "192.168.0.0/16", size: 20 }, ["192.168.5.0/24"])
 * // { capacity: 16, used: 1, free: 15, overlapping: ["192.168.5.0/24"] }
 */
export function poolUsage(pool: AddressPool, taken: readonly string[]): PoolUsage {
  const base = requireCidr(pool.base);
  const step = cidrSize({ network: 0, prefix: pool.size });
  const capacity = cidrSize(base) / step;
  const intervals: [number, number][] = [];
  const overlapping: string[] = [];
  for (const subnet of taken) {
    const cidr = requireCidr(subnet);
    if (!cidrsOverlap(cidr, base)) {
      continue;
    }
    overlapping.push(subnet);
    const low = Math.max(cidr.network, base.network) - base.network;
    const high = Math.min(broadcastOf(cidr), broadcastOf(base)) - base.network;
    intervals.push([Math.floor(low / step), Math.floor(high / step)]);
  }
  const used = countUnion(intervals);
  return { capacity, used, free: capacity - used, overlapping };
}

/** Number of integers covered by the union of inclusive intervals. */
function countUnion(intervals: [number, number][]): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -1;
  for (const [first, last] of sorted) {
    if (last <= end) {
      continue;
    }
    total += last - Math.max(first, end + 1) + 1;
    end = last;
  }
  return total;
}

/** Utilisation of one IPAM config of a network. */
export interface AddressUsage {
  /** Usable addresses of the subnet (network and broadcast excluded for /0../30). */
  size: number;
  /** Allocated addresses in the subnet: gateway, aux addresses and endpoints. */
  used: number;
  free: number;
  /** The part endpoints get addresses from dynamically (the ip range, else the subnet). */
  dynamic: { first: string; last: string; size: number; used: number; free: number };
}

/**
 * Used and free addresses of an IPAM config, given every allocated address of its
 * network (addresses of the network's other configs are ignored).
 *
 * @example addressUsage(resolved("10.0.0.0/24"), ["10.0.0.1", "10.0.0.2"])
 * // { size: 254, used: 2, free: 252, dynamic: { first: "10.0.0.1", last: "10.0.0.254", size: 254, used: 2, free: 252 } }
 */
export function addressUsage(config: IpamConfig, allocated: readonly string[]): AddressUsage {
  const subnet = requireCidr(config.subnet);
  const [first, last] = [firstUsable(subnet), lastUsable(subnet)];
  const range = dynamicRange(config);
  const [dynFirst, dynLast] = [requireIpv4(range.first), requireIpv4(range.last)];
  let used = 0;
  let dynamicUsed = 0;
  for (const address of new Set(allocated)) {
    const n = requireIpv4(address);
    if (n >= first && n <= last) {
      used += 1;
    }
    if (n >= dynFirst && n <= dynLast) {
      dynamicUsed += 1;
    }
  }
  const size = last - first + 1;
  const dynamicSize = dynLast - dynFirst + 1;
  return {
    size,
    used,
    free: size - used,
    dynamic: { ...range, size: dynamicSize, used: dynamicUsed, free: dynamicSize - dynamicUsed },
  };
}
