import { describe, expect, it } from "vitest";
import type { IpamConfig, IpamConfigInput } from "./ipam-config";
import { resolveIpamConfig } from "./ipam-config";
import type { AddressPool } from "./pools";
import type { AddressUsage, PoolUsage } from "./usage";
import { addressUsage, poolUsage } from "./usage";

function resolve(input: IpamConfigInput): IpamConfig {
  const result = resolveIpamConfig(input);
  if (!result.ok) {
    throw new Error(JSON.stringify(result.errors));
  }
  return result.config;
}

describe("poolUsage", () => {
  const slash20s: AddressPool = { base: "192.168.0.0/16", size: 20 };
  const cases: { name: string; pool: AddressPool; taken: string[]; want: PoolUsage }[] = [
    {
      name: "nothing taken",
      pool: slash20s,
      taken: [],
      want: { capacity: 16, used: 0, free: 16, overlapping: [] },
    },
    {
      name: "a custom /24 blocks the /20 it lies in",
      pool: slash20s,
      taken: ["192.168.5.0/24"],
      want: { capacity: 16, used: 1, free: 15, overlapping: ["192.168.5.0/24"] },
    },
    {
      name: "two /24s in one /20 block it once",
      pool: slash20s,
      taken: ["192.168.1.0/24", "192.168.2.0/24"],
      want: { capacity: 16, used: 1, free: 15, overlapping: ["192.168.1.0/24", "192.168.2.0/24"] },
    },
    {
      name: "pool subnets handed out",
      pool: slash20s,
      taken: ["192.168.0.0/20", "192.168.16.0/20", "10.0.0.0/8"],
      want: { capacity: 16, used: 2, free: 14, overlapping: ["192.168.0.0/20", "192.168.16.0/20"] },
    },
    {
      name: "a subnet covering the whole pool",
      pool: slash20s,
      taken: ["192.168.0.0/16"],
      want: { capacity: 16, used: 16, free: 0, overlapping: ["192.168.0.0/16"] },
    },
    {
      name: "a subnet bigger than the pool",
      pool: { base: "172.18.0.0/16", size: 16 },
      taken: ["172.16.0.0/12"],
      want: { capacity: 1, used: 1, free: 0, overlapping: ["172.16.0.0/12"] },
    },
    {
      name: "subnets outside the pool",
      pool: { base: "172.18.0.0/16", size: 16 },
      taken: ["172.17.0.0/16", "172.19.0.0/16"],
      want: { capacity: 1, used: 0, free: 1, overlapping: [] },
    },
    {
      name: "a /8 in /24s, overlapping intervals",
      pool: { base: "10.0.0.0/8", size: 24 },
      taken: ["10.0.0.0/16", "10.0.255.0/24", "10.1.0.0/24", "10.0.3.0/25"],
      want: {
        capacity: 65536,
        used: 257,
        free: 65279,
        overlapping: ["10.0.0.0/16", "10.0.255.0/24", "10.1.0.0/24", "10.0.3.0/25"],
      },
    },
    {
      name: "the pool's last subnet",
      pool: { base: "255.255.255.0/24", size: 26 },
      taken: ["255.255.255.192/26"],
      want: { capacity: 4, used: 1, free: 3, overlapping: ["255.255.255.192/26"] },
    },
  ];
  it.each(cases)("$name", ({ pool, taken, want }) => {
    expect(poolUsage(pool, taken)).toEqual(want);
  });
});

describe("addressUsage", () => {
  const cases: { name: string; config: IpamConfigInput; allocated: string[]; want: AddressUsage }[] = [
    {
      name: "gateway and one endpoint in a /24",
      config: { subnet: "10.0.0.0/24" },
      allocated: ["10.0.0.1", "10.0.0.2"],
      want: {
        size: 254,
        used: 2,
        free: 252,
        dynamic: { first: "10.0.0.1", last: "10.0.0.254", size: 254, used: 2, free: 252 },
      },
    },
    {
      name: "ip range, gateway and aux outside it, a static address outside it",
      config: {
        subnet: "172.28.0.0/16",
        ipRange: "172.28.5.0/24",
        gateway: "172.28.5.254",
        auxAddresses: { host1: "172.28.1.5" },
      },
      allocated: ["172.28.5.254", "172.28.1.5", "172.28.5.1", "172.28.9.9"],
      want: {
        size: 65534,
        used: 4,
        free: 65530,
        dynamic: { first: "172.28.5.1", last: "172.28.5.254", size: 254, used: 2, free: 252 },
      },
    },
    {
      name: "addresses of the network's other configs are not counted, duplicates once",
      config: { subnet: "10.0.0.0/24" },
      allocated: ["10.0.0.1", "10.0.0.1", "10.9.9.9"],
      want: {
        size: 254,
        used: 1,
        free: 253,
        dynamic: { first: "10.0.0.1", last: "10.0.0.254", size: 254, used: 1, free: 253 },
      },
    },
    {
      name: "a /31 point-to-point link",
      config: { subnet: "10.0.0.4/31" },
      allocated: ["10.0.0.4"],
      want: {
        size: 2,
        used: 1,
        free: 1,
        dynamic: { first: "10.0.0.4", last: "10.0.0.5", size: 2, used: 1, free: 1 },
      },
    },
  ];
  it.each(cases)("$name", ({ config, allocated, want }) => {
    expect(addressUsage(resolve(config), allocated)).toEqual(want);
  });
});
