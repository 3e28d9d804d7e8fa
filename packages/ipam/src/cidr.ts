import { formatIpv4, parseIpv4, requireIpv4 } from "./ipv4";

/** An IPv4 network: `network` has no host bits set, `prefix` is 0..32. */
export interface Cidr {
  readonly network: number;
  readonly prefix: number;
}

/** Result of {@link parseCidr}. */
export type ParseCidrResult = { ok: true; cidr: Cidr } | { ok: false; message: string };

const PREFIX_PATTERN = /^(0|[1-9][0-9]?)$/;

/** The netmask of a prefix length as a number (/16 → 255.255.0.0). */
export function maskOf(prefix: number): number {
  // `x << 32` is `x << 0` in JavaScript, so /0 needs its own case.
  return prefix === 0 ? 0 : (0xffff_ffff << (32 - prefix)) >>> 0;
}

/**
 * Parses canonical CIDR notation. Rejects garbage, prefixes outside 0..32 and host
 * bits set, with Docker's wording. `label` names the thing in the message.
 *
 * @example parseCidr("172.18.0.1/16")
 * // { ok: false, message: "invalid subnet 172.18.0.1/16: it should be 172.18.0.0/16" }
 */
export function parseCidr(s: string, label = "subnet"): ParseCidrResult {
  const slash = s.indexOf("/");
  const addr = slash === -1 ? undefined : parseIpv4(s.slice(0, slash));
  const prefixText = slash === -1 ? "" : s.slice(slash + 1);
  if (addr === undefined || !PREFIX_PATTERN.test(prefixText)) {
    return { ok: false, message: `invalid ${label} ${s}: invalid CIDR block notation` };
  }
  const prefix = Number(prefixText);
  if (prefix > 32) {
    return { ok: false, message: `invalid ${label} ${s}: prefix length must be between 0 and 32` };
  }
  const network = (addr & maskOf(prefix)) >>> 0;
  if (network !== addr) {
    return { ok: false, message: `invalid ${label} ${s}: it should be ${formatCidr({ network, prefix })}` };
  }
  return { ok: true, cidr: { network, prefix } };
}

/** Parses canonical CIDR or throws a RangeError; for values validated earlier. */
export function requireCidr(s: string): Cidr {
  const result = parseCidr(s);
  if (!result.ok) {
    throw new RangeError(result.message);
  }
  return result.cidr;
}

/** `{ network, prefix }` → `"172.18.0.0/16"`. */
export function formatCidr(cidr: Cidr): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefix}`;
}

/** The network of `addr` with the given prefix (host bits cleared). */
export function cidrOf(addr: number, prefix: number): Cidr {
  return { network: (addr & maskOf(prefix)) >>> 0, prefix };
}

/** Number of addresses in the network, 2^(32-prefix) (up to 2^32 for /0). */
export function cidrSize(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

/** The last address of the network (all host bits set). */
export function broadcastOf(cidr: Cidr): number {
  return cidr.network + cidrSize(cidr) - 1;
}

/** True when `addr` lies in the network (network and broadcast included). */
export function cidrContains(cidr: Cidr, addr: number): boolean {
  return addr >= cidr.network && addr <= broadcastOf(cidr);
}

/** True when every address of `inner` lies in `outer` (equal networks included). */
export function cidrContainsCidr(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && cidrContains(outer, inner.network);
}

/** True when the two networks share at least one address (either contains the other). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b.network) || cidrContains(b, a.network);
}

/**
 * First address a host may use. For /0../30 that skips the network address. A /31 is a
 * point-to-point link (RFC 3021) where both addresses are usable, and a /32 is its one
 * address, so for those this is the network address itself.
 */
export function firstUsable(cidr: Cidr): number {
  return cidr.prefix >= 31 ? cidr.network : cidr.network + 1;
}

/**
 * Last address a host may use: the one before broadcast for /0../30, the broadcast
 * (last) address itself for /31 and /32 (see {@link firstUsable}).
 */
export function lastUsable(cidr: Cidr): number {
  const broadcast = broadcastOf(cidr);
  return cidr.prefix >= 31 ? broadcast : broadcast - 1;
}

/** True when `addr` lies in the network and is neither its network nor broadcast address. */
export function isUsable(cidr: Cidr, addr: number): boolean {
  return addr >= firstUsable(cidr) && addr <= lastUsable(cidr);
}

/**
 * Parses interface notation, an address with its network's prefix length (`172.18.0.1/16`,
 * host bits allowed), as `ip addr` takes it; undefined for anything else.
 *
 * @example parseIpv4Interface("172.18.0.1/16") // { address: 2886860801, prefix: 16 }
 */
export function parseIpv4Interface(s: string): { address: number; prefix: number } | undefined {
  const slash = s.indexOf("/");
  const address = slash === -1 ? undefined : parseIpv4(s.slice(0, slash));
  const prefixText = slash === -1 ? "" : s.slice(slash + 1);
  if (address === undefined || !PREFIX_PATTERN.test(prefixText) || Number(prefixText) > 32) {
    return undefined;
  }
  return { address, prefix: Number(prefixText) };
}

/** True for interface notation (see {@link parseIpv4Interface}); a canonical CIDR is one too. */
export function isIpv4Interface(s: string): boolean {
  return parseIpv4Interface(s) !== undefined;
}

/**
 * An address in interface notation, as `ip addr add` and `docker inspect` show it.
 *
 * @example withPrefix("172.18.0.2", 16) // "172.18.0.2/16"
 */
export function withPrefix(addr: string | number, prefix: number): string {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw new RangeError(`not an IPv4 prefix length: ${prefix}`);
  }
  return `${formatIpv4(typeof addr === "number" ? addr : requireIpv4(addr))}/${prefix}`;
}

/**
 * `address` moved from subnet `from` into subnet `to` with the same host part (10.0.0.11 of
 * 10.0.0.0/24 is 10.0.7.11 of 10.0.7.0/24): how a lab's machine keeps the template's `.11` on
 * a LAN of its own. Undefined when `address` is not in `from` or its host part does not fit `to`.
 */
export function translateAddress(address: number, from: Cidr, to: Cidr): number | undefined {
  if (!cidrContains(from, address)) {
    return undefined;
  }
  const host = (address - from.network) >>> 0;
  const moved = (to.network + host) >>> 0;
  return host < cidrSize(to) && isUsable(to, moved) ? moved : undefined;
}
