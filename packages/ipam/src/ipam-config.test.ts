import { describe, expect, it } from "vitest";
import type { IpamConfig, IpamConfigInput, IpamFieldError } from "./ipam-config";
import {
  dynamicRange,
  resolveIpamConfig,
  type StaticAddressProblem,
  validateStaticAddress,
} from "./ipam-config";

function resolve(input: IpamConfigInput): IpamConfig {
  const result = resolveIpamConfig(input);
  if (!result.ok) {
    throw new Error(JSON.stringify(result.errors));
  }
  return result.config;
}

describe("resolveIpamConfig accepts", () => {
  const cases: { given: IpamConfigInput; want: IpamConfig }[] = [
    {
      given: { subnet: "172.18.0.0/16" },
      want: {
        subnet: "172.18.0.0/16",
        gateway: "172.18.0.1",
        prefix: 16,
        gatewayWithPrefix: "172.18.0.1/16",
        auxAddresses: {},
      },
    },
    {
      given: { subnet: "100.0.0.0/24", gateway: "100.0.0.254" },
      want: {
        subnet: "100.0.0.0/24",
        gateway: "100.0.0.254",
        prefix: 24,
        gatewayWithPrefix: "100.0.0.254/24",
        auxAddresses: {},
      },
    },
    {
      given: {
        subnet: "172.28.0.0/16",
        ipRange: "172.28.5.0/24",
        gateway: "172.28.5.254",
        auxAddresses: { host1: "172.28.1.5" },
      },
      want: {
        subnet: "172.28.0.0/16",
        gateway: "172.28.5.254",
        ipRange: "172.28.5.0/24",
        prefix: 16,
        gatewayWithPrefix: "172.28.5.254/16",
        auxAddresses: { host1: "172.28.1.5" },
      },
    },
    {
      // The gateway may lie outside the ip range.
      given: { subnet: "10.0.0.0/8", ipRange: "10.10.0.0/16" },
      want: {
        subnet: "10.0.0.0/8",
        gateway: "10.0.0.1",
        ipRange: "10.10.0.0/16",
        prefix: 8,
        gatewayWithPrefix: "10.0.0.1/8",
        auxAddresses: {},
      },
    },
    {
      given: { subnet: "10.0.0.4/31" },
      want: {
        subnet: "10.0.0.4/31",
        gateway: "10.0.0.4",
        prefix: 31,
        gatewayWithPrefix: "10.0.0.4/31",
        auxAddresses: {},
      },
    },
    {
      given: { subnet: "10.0.0.4/31", gateway: "10.0.0.5" },
      want: {
        subnet: "10.0.0.4/31",
        gateway: "10.0.0.5",
        prefix: 31,
        gatewayWithPrefix: "10.0.0.5/31",
        auxAddresses: {},
      },
    },
    {
      given: { subnet: "10.0.0.7/32" },
      want: {
        subnet: "10.0.0.7/32",
        gateway: "10.0.0.7",
        prefix: 32,
        gatewayWithPrefix: "10.0.0.7/32",
        auxAddresses: {},
      },
    },
  ];
  it.each(cases)("$given.subnet $given.gateway $given.ipRange", ({ given, want }) => {
    expect(resolveIpamConfig(given)).toEqual({ ok: true, config: want });
  });
});

describe("resolveIpamConfig rejects", () => {
  const cases: { name: string; given: IpamConfigInput; want: IpamFieldError[] }[] = [
    {
      name: "non-canonical subnet",
      given: { subnet: "172.18.0.1/16" },
      want: [{ field: "subnet", message: "invalid subnet 172.18.0.1/16: it should be 172.18.0.0/16" }],
    },
    {
      name: "garbage everywhere, syntax only",
      given: {
        subnet: "foo",
        gateway: "1001.10.5.3",
        ipRange: "bar",
        auxAddresses: { a: "dummy", b: "10.0.0.1" },
      },
      want: [
        { field: "subnet", message: "invalid subnet foo: invalid CIDR block notation" },
        { field: "gateway", message: "invalid gateway 1001.10.5.3: invalid address" },
        { field: "ipRange", message: "invalid ip-range bar: invalid CIDR block notation" },
        { field: "auxAddresses.a", message: "invalid auxiliary address a: invalid address" },
      ],
    },
    {
      name: "gateway outside the subnet",
      given: { subnet: "172.18.0.0/16", gateway: "172.19.0.1" },
      want: [
        {
          field: "gateway",
          message: "invalid gateway 172.19.0.1: parent subnet 172.18.0.0/16 doesn't contain this address",
        },
      ],
    },
    {
      name: "gateway = broadcast",
      given: { subnet: "172.18.0.0/16", gateway: "172.18.255.255" },
      want: [
        {
          field: "gateway",
          message: "invalid gateway 172.18.255.255: it is the broadcast address of 172.18.0.0/16",
        },
      ],
    },
    {
      name: "gateway = network",
      given: { subnet: "10.0.0.0/24", gateway: "10.0.0.0" },
      want: [
        { field: "gateway", message: "invalid gateway 10.0.0.0: it is the network address of 10.0.0.0/24" },
      ],
    },
    {
      name: "ip range outside the subnet",
      given: { subnet: "172.18.0.0/16", ipRange: "172.19.0.0/24" },
      want: [
        {
          field: "ipRange",
          message: "invalid ip-range 172.19.0.0/24: parent subnet 172.18.0.0/16 doesn't contain ip-range",
        },
      ],
    },
    {
      name: "ip range bigger than the subnet",
      given: { subnet: "10.10.10.0/24", ipRange: "10.0.0.0/8" },
      want: [
        {
          field: "ipRange",
          message: "invalid ip-range 10.0.0.0/8: CIDR block is bigger than its parent subnet 10.10.10.0/24",
        },
      ],
    },
    {
      name: "non-canonical ip range",
      given: { subnet: "10.0.0.0/8", ipRange: "10.10.10.0/16" },
      want: [{ field: "ipRange", message: "invalid ip-range 10.10.10.0/16: it should be 10.10.0.0/16" }],
    },
    {
      name: "ip range on the broadcast address only",
      given: { subnet: "10.0.0.0/24", ipRange: "10.0.0.255/32" },
      want: [
        {
          field: "ipRange",
          message: "invalid ip-range 10.0.0.255/32: it holds no usable address of subnet 10.0.0.0/24",
        },
      ],
    },
    {
      name: "aux address outside the subnet",
      given: { subnet: "10.0.0.0/8", auxAddresses: { router: "192.168.0.1", ok: "10.1.2.3" } },
      want: [
        {
          field: "auxAddresses.router",
          message: "invalid auxiliary address router: parent subnet 10.0.0.0/8 doesn't contain this address",
        },
      ],
    },
  ];
  it.each(cases)("$name", ({ given, want }) => {
    expect(resolveIpamConfig(given)).toEqual({ ok: false, errors: want });
  });
});

describe("dynamicRange", () => {
  const cases: { given: IpamConfigInput; want: { first: string; last: string } }[] = [
    { given: { subnet: "172.18.0.0/16" }, want: { first: "172.18.0.1", last: "172.18.255.254" } },
    {
      given: { subnet: "10.0.0.0/24", gateway: "10.0.0.254" },
      want: { first: "10.0.0.1", last: "10.0.0.254" },
    },
    {
      given: { subnet: "172.28.0.0/16", ipRange: "172.28.5.0/24" },
      want: { first: "172.28.5.1", last: "172.28.5.254" },
    },
    {
      given: { subnet: "10.0.0.0/24", ipRange: "10.0.0.0/24" },
      want: { first: "10.0.0.1", last: "10.0.0.254" },
    },
    // A /31 or /32 range is fully usable, except where it hits the subnet's own edges.
    {
      given: { subnet: "10.0.0.0/24", ipRange: "10.0.0.8/31" },
      want: { first: "10.0.0.8", last: "10.0.0.9" },
    },
    {
      given: { subnet: "10.0.0.0/24", ipRange: "10.0.0.254/31" },
      want: { first: "10.0.0.254", last: "10.0.0.254" },
    },
    {
      given: { subnet: "10.0.0.0/24", ipRange: "10.0.0.0/31" },
      want: { first: "10.0.0.1", last: "10.0.0.1" },
    },
    { given: { subnet: "10.0.0.4/31" }, want: { first: "10.0.0.4", last: "10.0.0.5" } },
    { given: { subnet: "10.0.0.7/32" }, want: { first: "10.0.0.7", last: "10.0.0.7" } },
  ];
  it.each(cases)("$given.subnet $given.ipRange", ({ given, want }) => {
    expect(dynamicRange(resolve(given))).toEqual(want);
  });
});

describe("validateStaticAddress", () => {
  const config = resolve({
    subnet: "100.0.0.0/24",
    ipRange: "100.0.0.128/25",
    auxAddresses: { nas: "100.0.0.50" },
  });
  const cases: { given: string; want: StaticAddressProblem | undefined }[] = [
    { given: "100.0.0.2", want: undefined },
    { given: "100.0.0.254", want: undefined },
    {
      given: "100.0.0.1",
      want: { reason: "reserved", message: "invalid address 100.0.0.1: it is the gateway of 100.0.0.0/24" },
    },
    {
      given: "100.0.0.0",
      want: {
        reason: "reserved",
        message: "invalid address 100.0.0.0: it is the network address of 100.0.0.0/24",
      },
    },
    {
      given: "100.0.0.255",
      want: {
        reason: "reserved",
        message: "invalid address 100.0.0.255: it is the broadcast address of 100.0.0.0/24",
      },
    },
    {
      given: "100.0.1.1",
      want: {
        reason: "outside",
        message: "invalid address 100.0.1.1: parent subnet 100.0.0.0/24 doesn't contain this address",
      },
    },
    {
      given: "100.0.0.50",
      want: {
        reason: "reserved",
        message: "invalid address 100.0.0.50: it is reserved as auxiliary address nas",
      },
    },
    {
      given: "100.0.0.050",
      want: { reason: "invalid", message: "invalid address 100.0.0.050: not an IPv4 address" },
    },
  ];
  it.each(cases)("$given", ({ given, want }) => {
    expect(validateStaticAddress(config, given)).toEqual(want);
  });
});
