import { describe, expect, it } from "vitest";
import { requireCidr } from "./cidr";
import { resolveIpamConfig } from "./ipam-config";
import { parseAddressPools } from "./pools";
import { reservedSubnetProblem } from "./reserved";

describe("reservedSubnetProblem", () => {
  it.each([
    ["127.0.0.0/8", "it is loopback (127.0.0.0/8), which no lab host may route to a bridge"],
    ["127.1.2.0/24", "it is loopback (127.0.0.0/8), which no lab host may route to a bridge"],
    ["224.0.0.0/4", "it is multicast (224.0.0.0/4), which no lab host may route to a bridge"],
    ["239.1.0.0/16", "it is multicast (224.0.0.0/4), which no lab host may route to a bridge"],
    ["0.0.0.0/8", 'it is "this network" (RFC 1122) (0.0.0.0/8), which no lab host may route to a bridge'],
    [
      "255.255.255.0/24",
      "it is reserved, with the broadcast address 255.255.255.255 (240.0.0.0/4), which no lab host may route to a bridge",
    ],
    [
      "169.254.0.0/16",
      "it is link-local (where cloud metadata services answer) (169.254.0.0/16), which no lab host may route to a bridge",
    ],
    [
      "0.0.0.0/0",
      'it overlaps "this network" (RFC 1122) (0.0.0.0/8), which no lab host may route to a bridge',
    ],
    ["96.0.0.0/3", "it overlaps loopback (127.0.0.0/8), which no lab host may route to a bridge"],
  ])("refuses %s", (subnet, want) => {
    expect(reservedSubnetProblem(requireCidr(subnet))).toBe(want);
  });

  it.each([
    "172.18.0.0/16",
    "10.0.0.0/8",
    "100.0.0.0/24",
    "198.18.0.0/15",
    "192.0.2.0/24",
    "223.255.255.0/24",
    "1.0.0.0/8",
    "169.253.0.0/16",
  ])("takes %s", (subnet) => {
    expect(reservedSubnetProblem(requireCidr(subnet))).toBeUndefined();
  });

  it("is a field error of the IPAM config, and its other fields are not judged against it", () => {
    expect(resolveIpamConfig({ subnet: "127.0.0.0/8", gateway: "127.0.0.1" })).toEqual({
      ok: false,
      errors: [
        {
          field: "subnet",
          message:
            "invalid subnet 127.0.0.0/8: it is loopback (127.0.0.0/8), which no lab host may route to a bridge",
        },
      ],
    });
  });

  it("refuses a pool in reserved space", () => {
    expect(parseAddressPools("base=224.0.0.0/8,size=24")).toEqual({
      ok: false,
      message:
        'invalid address pool 1 "base=224.0.0.0/8,size=24": base 224.0.0.0/8: it is multicast (224.0.0.0/4), which no lab host may route to a bridge',
    });
  });
});
