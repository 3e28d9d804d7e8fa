import { describe, expect, it } from "vitest";
import type { Cidr } from "./cidr";
import {
  broadcastOf,
  cidrContains,
  cidrContainsCidr,
  cidrSize,
  cidrsOverlap,
  firstUsable,
  formatCidr,
  isIpv4Interface,
  lastUsable,
  parseCidr,
  parseIpv4Interface,
  requireCidr,
  translateAddress,
  withPrefix,
} from "./cidr";
import { formatIpv4, requireIpv4 } from "./ipv4";

describe("parseCidr", () => {
  const cases: { given: string; want: Cidr | string }[] = [
    { given: "172.18.0.0/16", want: { network: 0xac12_0000, prefix: 16 } },
    { given: "0.0.0.0/0", want: { network: 0, prefix: 0 } },
    { given: "10.0.0.5/32", want: { network: 0x0a00_0005, prefix: 32 } },
    { given: "10.0.0.4/31", want: { network: 0x0a00_0004, prefix: 31 } },
    { given: "172.18.0.1/16", want: "invalid subnet 172.18.0.1/16: it should be 172.18.0.0/16" },
    { given: "10.0.0.5/31", want: "invalid subnet 10.0.0.5/31: it should be 10.0.0.4/31" },
    { given: "1.2.3.4/0", want: "invalid subnet 1.2.3.4/0: it should be 0.0.0.0/0" },
    { given: "10.0.0.0/33", want: "invalid subnet 10.0.0.0/33: prefix length must be between 0 and 32" },
    { given: "10.0.0.0/-1", want: "invalid subnet 10.0.0.0/-1: invalid CIDR block notation" },
    { given: "10.0.0.0/016", want: "invalid subnet 10.0.0.0/016: invalid CIDR block notation" },
    { given: "10.0.0.0/", want: "invalid subnet 10.0.0.0/: invalid CIDR block notation" },
    { given: "10.0.0.0", want: "invalid subnet 10.0.0.0: invalid CIDR block notation" },
    { given: "10.0.0.256/24", want: "invalid subnet 10.0.0.256/24: invalid CIDR block notation" },
    { given: "010.0.0.0/8", want: "invalid subnet 010.0.0.0/8: invalid CIDR block notation" },
    { given: "foo", want: "invalid subnet foo: invalid CIDR block notation" },
    { given: "10.0.0.0/8/8", want: "invalid subnet 10.0.0.0/8/8: invalid CIDR block notation" },
  ];
  it.each(cases)("$given", ({ given, want }) => {
    const got = parseCidr(given);
    expect(got).toEqual(typeof want === "string" ? { ok: false, message: want } : { ok: true, cidr: want });
  });

  it("names the thing in the message", () => {
    expect(parseCidr("10.1.0.0/8", "ip-range")).toEqual({
      ok: false,
      message: "invalid ip-range 10.1.0.0/8: it should be 10.0.0.0/8",
    });
  });

  it("round-trips through formatCidr", () => {
    expect(formatCidr(requireCidr("192.168.16.0/20"))).toBe("192.168.16.0/20");
  });
});

describe("sizes and bounds", () => {
  const cases: { given: string; size: number; broadcast: string; first: string; last: string }[] = [
    {
      given: "0.0.0.0/0",
      size: 2 ** 32,
      broadcast: "255.255.255.255",
      first: "0.0.0.1",
      last: "255.255.255.254",
    },
    {
      given: "172.18.0.0/16",
      size: 65536,
      broadcast: "172.18.255.255",
      first: "172.18.0.1",
      last: "172.18.255.254",
    },
    { given: "10.0.0.0/24", size: 256, broadcast: "10.0.0.255", first: "10.0.0.1", last: "10.0.0.254" },
    { given: "10.0.0.0/30", size: 4, broadcast: "10.0.0.3", first: "10.0.0.1", last: "10.0.0.2" },
    { given: "10.0.0.4/31", size: 2, broadcast: "10.0.0.5", first: "10.0.0.4", last: "10.0.0.5" },
    { given: "10.0.0.7/32", size: 1, broadcast: "10.0.0.7", first: "10.0.0.7", last: "10.0.0.7" },
    {
      given: "255.255.255.255/32",
      size: 1,
      broadcast: "255.255.255.255",
      first: "255.255.255.255",
      last: "255.255.255.255",
    },
  ];
  it.each(cases)("$given", ({ given, size, broadcast, first, last }) => {
    const cidr = requireCidr(given);
    expect(cidrSize(cidr)).toBe(size);
    expect(formatIpv4(broadcastOf(cidr))).toBe(broadcast);
    expect(formatIpv4(firstUsable(cidr))).toBe(first);
    expect(formatIpv4(lastUsable(cidr))).toBe(last);
  });
});

describe("cidrContains", () => {
  const cases: { cidr: string; addr: string; want: boolean }[] = [
    { cidr: "172.18.0.0/16", addr: "172.18.0.0", want: true },
    { cidr: "172.18.0.0/16", addr: "172.18.255.255", want: true },
    { cidr: "172.18.0.0/16", addr: "172.19.0.0", want: false },
    { cidr: "172.18.0.0/16", addr: "172.17.255.255", want: false },
    { cidr: "0.0.0.0/0", addr: "255.255.255.255", want: true },
    { cidr: "10.0.0.7/32", addr: "10.0.0.7", want: true },
    { cidr: "10.0.0.7/32", addr: "10.0.0.8", want: false },
  ];
  it.each(cases)("$cidr ∋ $addr", ({ cidr, addr, want }) => {
    expect(cidrContains(requireCidr(cidr), requireIpv4(addr))).toBe(want);
  });
});

describe("cidrContainsCidr and cidrsOverlap", () => {
  const cases: { a: string; b: string; aHoldsB: boolean; bHoldsA: boolean; overlap: boolean }[] = [
    { a: "172.18.0.0/16", b: "172.18.5.0/24", aHoldsB: true, bHoldsA: false, overlap: true },
    { a: "172.18.5.0/24", b: "172.18.0.0/16", aHoldsB: false, bHoldsA: true, overlap: true },
    { a: "172.18.0.0/16", b: "172.18.0.0/16", aHoldsB: true, bHoldsA: true, overlap: true },
    { a: "172.18.0.0/16", b: "172.19.0.0/16", aHoldsB: false, bHoldsA: false, overlap: false },
    { a: "192.168.0.0/20", b: "192.168.16.0/20", aHoldsB: false, bHoldsA: false, overlap: false },
    { a: "192.168.0.0/20", b: "192.168.15.255/32", aHoldsB: true, bHoldsA: false, overlap: true },
    { a: "0.0.0.0/0", b: "10.0.0.0/8", aHoldsB: true, bHoldsA: false, overlap: true },
    { a: "10.0.0.4/31", b: "10.0.0.6/31", aHoldsB: false, bHoldsA: false, overlap: false },
  ];
  it.each(cases)("$a vs $b", ({ a, b, aHoldsB, bHoldsA, overlap }) => {
    const [ca, cb] = [requireCidr(a), requireCidr(b)];
    expect(cidrContainsCidr(ca, cb)).toBe(aHoldsB);
    expect(cidrContainsCidr(cb, ca)).toBe(bHoldsA);
    expect(cidrsOverlap(ca, cb)).toBe(overlap);
    expect(cidrsOverlap(cb, ca)).toBe(overlap);
  });
});

describe("parseIpv4Interface", () => {
  const cases: { given: string; want: { address: string; prefix: number } | undefined }[] = [
    { given: "172.18.0.1/16", want: { address: "172.18.0.1", prefix: 16 } },
    { given: "172.18.0.0/16", want: { address: "172.18.0.0", prefix: 16 } },
    { given: "10.0.0.11/32", want: { address: "10.0.0.11", prefix: 32 } },
    { given: "0.0.0.0/0", want: { address: "0.0.0.0", prefix: 0 } },
    { given: "172.18.0.1", want: undefined },
    { given: "172.18.0.1/33", want: undefined },
    { given: "172.18.0.1/016", want: undefined },
    { given: "172.018.0.1/16", want: undefined },
    { given: "172.18.0.1/16/8", want: undefined },
    { given: "172.18.0.1/ 16", want: undefined },
    { given: "172.18.0.1/16\n", want: undefined },
  ];
  it.each(cases)("$given", ({ given, want }) => {
    const got = parseIpv4Interface(given);
    expect(got && { address: formatIpv4(got.address), prefix: got.prefix }).toEqual(want);
    expect(isIpv4Interface(given)).toBe(want !== undefined);
  });
});

describe("withPrefix", () => {
  const cases: { addr: string | number; prefix: number; want: string }[] = [
    { addr: "172.18.0.2", prefix: 16, want: "172.18.0.2/16" },
    { addr: 0x0a00_0001, prefix: 24, want: "10.0.0.1/24" },
    { addr: "0.0.0.0", prefix: 0, want: "0.0.0.0/0" },
  ];
  it.each(cases)("$want", ({ addr, prefix, want }) => {
    expect(withPrefix(addr, prefix)).toBe(want);
  });

  it.each([
    { addr: "172.18.0.256", prefix: 16 },
    { addr: "172.18.0.2", prefix: 33 },
    { addr: -1, prefix: 8 },
  ])("throws on $addr/$prefix", ({ addr, prefix }) => {
    expect(() => withPrefix(addr, prefix)).toThrow(RangeError);
  });
});

describe("translateAddress", () => {
  const from = requireCidr("10.0.0.0/24");
  it("keeps the host part in another subnet", () => {
    expect(translateAddress(requireIpv4("10.0.0.11"), from, requireCidr("10.0.7.0/24"))).toBe(
      requireIpv4("10.0.7.11"),
    );
  });
  it("refuses an address outside the first subnet or a host part the second cannot hold", () => {
    expect(translateAddress(requireIpv4("10.0.1.11"), from, requireCidr("10.0.7.0/24"))).toBeUndefined();
    expect(translateAddress(requireIpv4("10.0.0.200"), from, requireCidr("10.0.7.0/25"))).toBeUndefined();
  });
});
