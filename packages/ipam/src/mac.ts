import { requireIpv4 } from "./ipv4";

const MAC_PATTERN = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;

/**
 * Docker's MAC for an IPv4 endpoint: the locally administered prefix 02:42 followed by
 * the four bytes of the address, so a MAC maps back to its IP at a glance.
 * Throws a RangeError when `ip` is not a strict dotted quad.
 *
 * @example macFromIpv4("172.18.0.2") // "02:42:ac:12:00:02"
 */
export function macFromIpv4(ip: string): string {
  const n = requireIpv4(ip);
  const bytes = [0x02, 0x42, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/**
 * Normalizes a 48-bit MAC written with `:` or `-` separators (one kind, two hex digits a
 * group, any case) to lower-case colon form; undefined for anything else.
 *
 * @example normalizeMac("02-42-AC-12-00-02") // "02:42:ac:12:00:02"
 */
export function normalizeMac(s: string): string | undefined {
  if (!MAC_PATTERN.test(s)) {
    return undefined;
  }
  return s.toLowerCase().replaceAll("-", ":");
}

/**
 * True for a unicast MAC in the form Labnet writes (lower-case, colons): what may be put on
 * an interface or into a neighbour or fdb entry.
 */
export function isUnicastMac(s: string): boolean {
  return normalizeMac(s) === s && (Number.parseInt(s.slice(0, 2), 16) & 1) === 0;
}

/**
 * True when `s` is a MAC that {@link normalizeMac} accepts. Syntax only: a multicast
 * MAC (low bit of the first byte set) passes here, though the kernel refuses it on an
 * interface.
 */
export function isMac(s: string): boolean {
  return normalizeMac(s) !== undefined;
}
