import { describe, expect, it } from "vitest";
import { cidrsOverlap, requireCidr } from "./cidr";
import type { AddressPool } from "./pools";
import {
  DEFAULT_ADDRESS_POOLS,
  DEFAULT_BRIDGE_GATEWAY,
  DEFAULT_BRIDGE_SUBNET,
  DEFAULT_LAN_POOLS,
  enumeratePoolSubnets,
  findFreeSubnet,
  parseAddressPools,
} from "./pools";

describe("DEFAULT_ADDRESS_POOLS", () => {
  const subnets = [...enumeratePoolSubnets(DEFAULT_ADDRESS_POOLS)];

  it("yields Docker's 31 networks in order, then 10.128.0.0/9 in /24s", () => {
    expect(subnets).toHaveLength(31 + 32_768);
    expect(subnets.slice(0, 3)).toEqual(["172.17.0.0/16", "172.18.0.0/16", "172.19.0.0/16"]);
    expect(subnets[14]).toBe("172.31.0.0/16");
    expect(subnets.slice(15, 17)).toEqual(["192.168.0.0/20", "192.168.16.0/20"]);
    expect(subnets[30]).toBe("192.168.240.0/20");
    expect(subnets.slice(31, 33)).toEqual(["10.128.0.0/24", "10.128.1.0/24"]);
    expect(subnets.at(-1)).toBe("10.255.255.0/24");
  });

  it("starts with the default bridge", () => {
    expect(subnets[0]).toBe(DEFAULT_BRIDGE_SUBNET);
    expect(DEFAULT_BRIDGE_GATEWAY).toBe("172.17.0.1");
  });

  it("fits a class on one lab host: 30 students with 10 networks each, no pool exhausted", () => {
    const taken: string[] = [DEFAULT_BRIDGE_SUBNET];
    for (let i = 0; i < 300; i++) {
      const subnet = findFreeSubnet(DEFAULT_ADDRESS_POOLS, taken);
      expect(subnet).toBeDefined();
      taken.push(subnet ?? "");
    }
    // 1 default bridge + 30 of Docker's + 270 /24s: the 270th is 10.128.0.0 + 269 × 256.
    expect(taken.at(-1)).toBe("10.129.13.0/24");
  });

  it("never overlaps the LAN pools, or a lab host's LANs would shadow its networks' routes", () => {
    for (const pool of DEFAULT_ADDRESS_POOLS) {
      for (const lan of DEFAULT_LAN_POOLS) {
        expect(
          cidrsOverlap(requireCidr(pool.base), requireCidr(lan.base)),
          `${pool.base} / ${lan.base}`,
        ).toBe(false);
      }
    }
    expect([...enumeratePoolSubnets(DEFAULT_LAN_POOLS)].slice(0, 2)).toEqual(["10.0.0.0/24", "10.0.1.0/24"]);
  });
});

describe("enumeratePoolSubnets", () => {
  const cases: { given: AddressPool[]; want: string[] }[] = [
    { given: [], want: [] },
    { given: [{ base: "10.0.0.0/24", size: 24 }], want: ["10.0.0.0/24"] },
    {
      given: [{ base: "10.0.0.0/24", size: 26 }],
      want: ["10.0.0.0/26", "10.0.0.64/26", "10.0.0.128/26", "10.0.0.192/26"],
    },
    {
      given: [
        { base: "10.1.0.0/23", size: 24 },
        { base: "10.0.0.0/23", size: 24 },
      ],
      want: ["10.1.0.0/24", "10.1.1.0/24", "10.0.0.0/24", "10.0.1.0/24"],
    },
    { given: [{ base: "255.255.255.252/30", size: 31 }], want: ["255.255.255.252/31", "255.255.255.254/31"] },
  ];
  it.each(cases)("$given", ({ given, want }) => {
    expect([...enumeratePoolSubnets(given)]).toEqual(want);
  });

  it.each([
    { base: "10.0.0.0/16", size: 8 },
    { base: "10.0.0.0/16", size: 33 },
    { base: "10.0.0.1/16", size: 24 },
  ])("throws on $base size $size", (pool) => {
    expect(() => [...enumeratePoolSubnets([pool])]).toThrow(RangeError);
  });

  it("is lazy", () => {
    const first = enumeratePoolSubnets([{ base: "0.0.0.0/0", size: 32 }]).next();
    expect(first.value).toBe("0.0.0.0/32");
  });
});

describe("findFreeSubnet", () => {
  const cases: { taken: string[]; want: string | undefined }[] = [
    { taken: [], want: "172.17.0.0/16" },
    { taken: ["172.17.0.0/16"], want: "172.18.0.0/16" },
    { taken: ["172.17.0.0/16", "172.18.5.0/24"], want: "172.19.0.0/16" },
    { taken: ["172.16.0.0/12"], want: "192.168.0.0/20" },
    { taken: ["172.16.0.0/12", "192.168.0.0/19"], want: "192.168.32.0/20" },
    { taken: ["0.0.0.0/0"], want: undefined },
  ];
  it.each(cases)("taken $taken", ({ taken, want }) => {
    expect(findFreeSubnet(DEFAULT_ADDRESS_POOLS, taken)).toBe(want);
  });
});

describe("parseAddressPools", () => {
  const cases: { given: string; want: AddressPool[] | string }[] = [
    {
      given: "base=172.17.0.0/16,size=16;base=10.10.0.0/16,size=24",
      want: [
        { base: "172.17.0.0/16", size: 16 },
        { base: "10.10.0.0/16", size: 24 },
      ],
    },
    { given: " size=24 , base=10.10.0.0/16 ; ", want: [{ base: "10.10.0.0/16", size: 24 }] },
    { given: "", want: "no address pool given" },
    { given: " ; ", want: "no address pool given" },
    {
      given: "base=172.17.0.0/16,size=16;base=10.10.0.1/16,size=24",
      want: 'invalid address pool 2 "base=10.10.0.1/16,size=24": invalid base 10.10.0.1/16: it should be 10.10.0.0/16',
    },
    {
      given: "base=10.10.0.0/16,size=8",
      want: 'invalid address pool 1 "base=10.10.0.0/16,size=8": size 8 must be a prefix length between 16 and 32',
    },
    {
      given: "base=10.10.0.0/16,size=33",
      want: 'invalid address pool 1 "base=10.10.0.0/16,size=33": size 33 must be a prefix length between 16 and 32',
    },
    {
      given: "base=10.10.0.0/16,size=2x",
      want: 'invalid address pool 1 "base=10.10.0.0/16,size=2x": size 2x must be a prefix length between 16 and 32',
    },
    { given: "base=10.10.0.0/16", want: 'invalid address pool 1 "base=10.10.0.0/16": size is missing' },
    { given: "size=24", want: 'invalid address pool 1 "size=24": base is missing' },
    {
      given: "base=10.10.0.0/16,size=24,base=10.0.0.0/8",
      want: 'invalid address pool 1 "base=10.10.0.0/16,size=24,base=10.0.0.0/8": base given twice',
    },
    {
      given: "base=10.10.0.0/16,mask=24",
      want: 'invalid address pool 1 "base=10.10.0.0/16,mask=24": unknown key "mask" (expected base and size)',
    },
    {
      given: "10.10.0.0/16,size=24",
      want: 'invalid address pool 1 "10.10.0.0/16,size=24": expected key=value, got "10.10.0.0/16"',
    },
  ];
  it.each(cases)("$given", ({ given, want }) => {
    expect(parseAddressPools(given)).toEqual(
      typeof want === "string" ? { ok: false, message: want } : { ok: true, pools: want },
    );
  });
});
