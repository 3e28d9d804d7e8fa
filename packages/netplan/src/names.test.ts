import { describe, expect, it } from "vitest";
import {
  bridgeName,
  hostVethName,
  isChosenBridgeName,
  isLabnetBridge,
  isLabnetHostVeth,
  isLabnetMacvlanTemp,
  isLabnetOwnedBridge,
  isSandboxIfName,
  isValidHostNetnsPrefix,
  isValidIfName,
  isValidNetnsName,
  isValidNetnsPrefix,
  machineNetnsPrefix,
  macvlanTempName,
  sandboxIfName,
  sandboxNetnsName,
  tempPeerName,
} from "./names";

describe("name builders", () => {
  const cases: { name: string; given: () => string; want: string }[] = [
    { name: "bridge", given: () => bridgeName("net_abcdefgh23456777"), want: "lnbr-abcdefgh" },
    { name: "host veth", given: () => hostVethName("ep_abcdefghij234567"), want: "lnvabcdefghij" },
    { name: "temp peer", given: () => tempPeerName("lnvabcdefghij"), want: "lntabcdefghij" },
    { name: "macvlan temp", given: () => macvlanTempName("ep_abcdefghij234567"), want: "lnsabcdefghij" },
    {
      name: "netns with default prefix",
      given: () => sandboxNetnsName("ln-", "nod_abcdefghij234567"),
      want: "ln-abcdefghij234567",
    },
    {
      name: "netns with test prefix",
      given: () => sandboxNetnsName("lt4f2ah1-", "nod_abcdefghij234567"),
      want: "lt4f2ah1-abcdefghij234567",
    },
    { name: "first interface", given: () => sandboxIfName(0), want: "eth0" },
    { name: "third interface", given: () => sandboxIfName(2), want: "eth2" },
  ];
  it.each(cases)("$name", ({ given, want }) => {
    expect(given()).toBe(want);
  });

  const bad: { name: string; given: () => string }[] = [
    { name: "network id with wrong prefix", given: () => bridgeName("ep_abcdefghij234567") },
    { name: "network id too short", given: () => bridgeName("net_abc") },
    { name: "macvlan temp of a node id", given: () => macvlanTempName("nod_abcdefghij234567") },
    { name: "network id with uppercase", given: () => bridgeName("net_ABCDEFGHIJ234567") },
    { name: "network id with 0/1/8/9", given: () => bridgeName("net_abcdefghij234501") },
    { name: "endpoint id with space", given: () => hostVethName("ep_abcdefghij 34567") },
    { name: "node id for netns with newline", given: () => sandboxNetnsName("ln-", "nod_abcdefghij23456\n") },
    { name: "netns prefix without dash", given: () => sandboxNetnsName("ln", "nod_abcdefghij234567") },
    { name: "netns prefix with slash", given: () => sandboxNetnsName("../-", "nod_abcdefghij234567") },
    { name: "negative interface index", given: () => sandboxIfName(-1) },
    { name: "fractional interface index", given: () => sandboxIfName(1.5) },
    { name: "temp peer of a foreign name", given: () => tempPeerName("veth123") },
  ];
  it.each(bad)("rejects $name", ({ given }) => {
    expect(given).toThrow();
  });
});

describe("validators", () => {
  const cases: { name: string; check: (value: string) => boolean; given: string; want: boolean }[] = [
    { name: "if name 15 bytes", check: isValidIfName, given: "a".repeat(15), want: true },
    { name: "if name 16 bytes", check: isValidIfName, given: "a".repeat(16), want: false },
    { name: "if name empty", check: isValidIfName, given: "", want: false },
    { name: "if name dot", check: isValidIfName, given: ".", want: false },
    { name: "if name dotdot", check: isValidIfName, given: "..", want: false },
    { name: "if name slash", check: isValidIfName, given: "a/b", want: false },
    { name: "if name space", check: isValidIfName, given: "a b", want: false },
    { name: "if name with dash dot underscore", check: isValidIfName, given: "a-b.c_d", want: true },
    { name: "netns 64 chars", check: isValidNetnsName, given: "n".repeat(64), want: true },
    { name: "netns 65 chars", check: isValidNetnsName, given: "n".repeat(65), want: false },
    { name: "netns with slash", check: isValidNetnsName, given: "a/b", want: false },
    { name: "prefix ln-", check: isValidNetnsPrefix, given: "ln-", want: true },
    { name: "prefix lt4f2ah1-", check: isValidNetnsPrefix, given: "lt4f2ah1-", want: true },
    { name: "prefix without dash", check: isValidNetnsPrefix, given: "ln", want: false },
    { name: "prefix only dash", check: isValidNetnsPrefix, given: "-", want: false },
    { name: "prefix starting with dash", check: isValidNetnsPrefix, given: "--", want: false },
    { name: "prefix too long", check: isValidNetnsPrefix, given: `${"p".repeat(48)}-`, want: false },
    { name: "host prefix ln-", check: isValidHostNetnsPrefix, given: "ln-", want: true },
    { name: "host prefix starting with a digit", check: isValidHostNetnsPrefix, given: "9x-", want: false },
    { name: "host prefix of 39", check: isValidHostNetnsPrefix, given: `${"p".repeat(38)}-`, want: true },
    // Valid as a prefix, but its machines' prefixes (9 more) would not be.
    { name: "host prefix of 40", check: isValidHostNetnsPrefix, given: `${"p".repeat(39)}-`, want: false },
    { name: "labnet bridge", check: isLabnetBridge, given: "lnbr-abcdefgh", want: true },
    { name: "docker bridge", check: isLabnetBridge, given: "docker0", want: false },
    { name: "bridge with id chars 0/1", check: isLabnetBridge, given: "lnbr-abcdefg1", want: false },
    { name: "chosen docker0", check: isChosenBridgeName, given: "docker0", want: true },
    { name: "chosen with a dot", check: isChosenBridgeName, given: "br.web", want: true },
    { name: "chosen in Labnet's form", check: isChosenBridgeName, given: "lnbr-abcdefgh", want: false },
    { name: "chosen ln-anything", check: isChosenBridgeName, given: "lnx", want: false },
    { name: "chosen lo", check: isChosenBridgeName, given: "lo", want: false },
    { name: "chosen starting with -", check: isChosenBridgeName, given: "-br", want: false },
    { name: "chosen of 16 bytes", check: isChosenBridgeName, given: "b".repeat(16), want: false },
    { name: "labnet host veth", check: isLabnetHostVeth, given: "lnvabcdefghij", want: true },
    { name: "vxlan device is not a host veth", check: isLabnetHostVeth, given: "lnvx-257", want: false },
    { name: "docker veth", check: isLabnetHostVeth, given: "veth1a2b3c4", want: false },
    { name: "labnet macvlan temp", check: isLabnetMacvlanTemp, given: "lnsabcdefghij", want: true },
    { name: "macvlan temp too long", check: isLabnetMacvlanTemp, given: "lnsabcdefghijk", want: false },
    { name: "docker macvlan is not Labnet's", check: isLabnetMacvlanTemp, given: "macvlan0", want: false },
    { name: "eth0", check: isSandboxIfName, given: "eth0", want: true },
    { name: "eth01", check: isSandboxIfName, given: "eth01", want: false },
    { name: "ethx", check: isSandboxIfName, given: "ethx", want: false },
  ];
  it.each(cases)("$name", ({ check, given, want }) => {
    expect(check(given)).toBe(want);
  });
});

describe("isValidHostNetnsPrefix", () => {
  it("admits exactly the prefixes whose machines' prefixes are valid", () => {
    for (let length = 2; length <= 49; length++) {
      const prefix = `${"p".repeat(length - 1)}-`;
      const machineOk = (() => {
        try {
          machineNetnsPrefix(prefix, "hst_abcdefghij234567");
          return true;
        } catch {
          return false;
        }
      })();
      expect(isValidHostNetnsPrefix(prefix), `length ${length}`).toBe(machineOk);
    }
  });
});

describe("isLabnetOwnedBridge", () => {
  it("owns lnbr- names, and bridges of other names only by Labnet's alias", () => {
    expect(isLabnetOwnedBridge({ name: "lnbr-abcdefgh" })).toBe(true);
    expect(isLabnetOwnedBridge({ name: "docker0", kind: "bridge", alias: "labnet" })).toBe(true);
    expect(isLabnetOwnedBridge({ name: "docker0", kind: "bridge" })).toBe(false);
    expect(isLabnetOwnedBridge({ name: "docker0", kind: "bridge", alias: "labnet2" })).toBe(false);
    // The alias on something that is no bridge does not make it Labnet's bridge.
    expect(isLabnetOwnedBridge({ name: "eth0", kind: "veth", alias: "labnet" })).toBe(false);
  });
});
