/**
 * IPv4 addresses as unsigned 32-bit numbers. All arithmetic in this package works on
 * these numbers; strings exist only at the edges.
 */

// One octet: 0, or 1-3 digits without a leading zero ("01" is ambiguous: some parsers
// read it as octal, so Docker and Go reject it and so do we).
const OCTET = "(0|[1-9][0-9]{0,2})";
const IPV4_PATTERN = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/** Largest IPv4 address as a number (255.255.255.255). */
export const MAX_IPV4 = 0xffff_ffff;

/**
 * Parses a strict dotted quad into an unsigned 32-bit number.
 * Rejects leading zeros, octets above 255, whitespace and short forms.
 *
 * @example parseIpv4("172.18.0.2") // 2886860802
 * @example parseIpv4("172.018.0.2") // undefined
 */
export function parseIpv4(s: string): number | undefined {
  const match = IPV4_PATTERN.exec(s);
  if (match === null) {
    return undefined;
  }
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(match[i]);
    if (octet > 255) {
      return undefined;
    }
    n = n * 256 + octet;
  }
  return n;
}

/** True when `s` is a strict dotted-quad IPv4 address (see {@link parseIpv4}). */
export function isIpv4(s: string): boolean {
  return parseIpv4(s) !== undefined;
}

/** True when `n` is an integer in 0..2^32-1. */
export function isIpv4Number(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= MAX_IPV4;
}

/**
 * Formats an unsigned 32-bit number as a dotted quad.
 * Throws a RangeError for anything that is not an integer in 0..2^32-1: that is a
 * programming error, not user input.
 */
export function formatIpv4(n: number): string {
  assertIpv4Number(n);
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join(".");
}

/** Throws a RangeError unless `n` is an IPv4 address number. */
export function assertIpv4Number(n: number): void {
  if (!isIpv4Number(n)) {
    throw new RangeError(`not an IPv4 address number: ${n}`);
  }
}

/** Parses `s` or throws a RangeError; for addresses that were validated earlier. */
export function requireIpv4(s: string): number {
  const n = parseIpv4(s);
  if (n === undefined) {
    throw new RangeError(`not an IPv4 address: ${JSON.stringify(s)}`);
  }
  return n;
}
