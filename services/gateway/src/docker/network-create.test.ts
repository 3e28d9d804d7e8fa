import { describe, expect, it } from "vitest";
import { createNetworkInputOf } from "./network-create";

const HOST = "hst_aaaaaaaaaaaaaaaa";

describe("createNetworkInputOf", () => {
  it("seed 002's macvlan_1", () => {
    expect(
      createNetworkInputOf(
        {
          Name: "macvlan_1",
          Driver: "macvlan",
          IPAM: { Driver: "default", Config: [{ Subnet: "100.0.0.0/24", Gateway: "100.0.0.254" }] },
          Options: { parent: "eth0" },
        },
        HOST,
      ),
    ).toEqual({
      name: "macvlan_1",
      host: HOST,
      driver: "macvlan",
      ipam: { configs: [{ subnet: "100.0.0.0/24", gateway: "100.0.0.254" }] },
      options: { parent: "eth0" },
    });
  });

  it("an empty driver is bridge; ip-range, aux addresses, internal, labels", () => {
    expect(
      createNetworkInputOf(
        {
          Name: "web",
          Driver: "",
          Internal: true,
          IPAM: {
            Config: [
              { Subnet: "10.1.0.0/16", IPRange: "10.1.5.0/24", AuxiliaryAddresses: { r: "10.1.1.1" } },
            ],
          },
          Labels: { a: "b" },
          // dockerd's defaults change nothing.
          Options: { "com.docker.network.bridge.enable_ip_masquerade": "true" },
        },
        HOST,
      ),
    ).toEqual({
      name: "web",
      host: HOST,
      driver: "bridge",
      internal: true,
      ipam: { configs: [{ subnet: "10.1.0.0/16", ipRange: "10.1.5.0/24", auxAddresses: { r: "10.1.1.1" } }] },
      labels: { a: "b" },
    });
  });

  it("passes a bridge name on (the command checks it)", () => {
    expect(
      createNetworkInputOf({ Name: "x", Options: { "com.docker.network.bridge.name": "br-web" } }, HOST)
        .options,
    ).toEqual({ "com.docker.network.bridge.name": "br-web" });
  });

  it("reads boolean options as dockerd does (Go's ParseBool) and passes icc and mtu on", () => {
    expect(
      createNetworkInputOf(
        {
          Name: "x",
          Options: {
            "com.docker.network.bridge.enable_icc": "0",
            "com.docker.network.bridge.enable_ip_masquerade": "1",
            "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
            "com.docker.network.driver.mtu": "1400",
          },
        },
        HOST,
      ).options,
    ).toEqual({ "com.docker.network.bridge.enable_icc": "false", "com.docker.network.driver.mtu": "1400" });
    expect(
      createNetworkInputOf({ Name: "x", Options: { "com.docker.network.bridge.enable_icc": "True" } }, HOST)
        .options,
    ).toEqual({ "com.docker.network.bridge.enable_icc": "true" });
  });

  const refused: [string, unknown, string][] = [
    ["IPv6", { Name: "x", EnableIPv6: true }, "IPv6"],
    ["another IPAM driver", { Name: "x", IPAM: { Driver: "dhcp" } }, "IPAM driver dhcp"],
    [
      "masquerade off",
      { Name: "x", Options: { "com.docker.network.bridge.enable_ip_masquerade": "f" } },
      "option com.docker.network.bridge.enable_ip_masquerade=false is not supported by Labnet (only true): every Labnet bridge network masquerades its egress; --internal",
    ],
    [
      "another default bind address",
      { Name: "x", Options: { "com.docker.network.bridge.host_binding_ipv4": "127.0.0.1" } },
      "option com.docker.network.bridge.host_binding_ipv4=127.0.0.1 is not supported by Labnet (only 0.0.0.0): publish on one address with -p",
    ],
    [
      "a boolean option that is no boolean",
      { Name: "x", Options: { "com.docker.network.bridge.enable_icc": "yes" } },
      'failed to parse com.docker.network.bridge.enable_icc value: yes (strconv.ParseBool: parsing "yes": invalid syntax)',
    ],
    ["a gateway without subnet", { Name: "x", IPAM: { Config: [{ Gateway: "10.0.0.1" }] } }, "no subnet"],
    ["no name", {}, "invalid network config"],
  ];
  for (const [name, given, message] of refused) {
    it(`refuses ${name}`, () => {
      expect(() => createNetworkInputOf(given, HOST)).toThrow(message);
    });
  }
});
