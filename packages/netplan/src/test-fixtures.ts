/** Fixtures shared by netplan's colocated tests (not exported from the package). */
import type { DesiredBridge } from "./desired";

/** A plain bridge network: lnbr-abcdefgh, 172.30.0.1/24, egress, icc on, isolated. */
export function makeBridge(overrides: Partial<DesiredBridge> = {}): DesiredBridge {
  return {
    networkId: "net_abcdefgh23456777",
    bridge: "lnbr-abcdefgh",
    gateways: ["172.30.0.1/24"],
    subnets: ["172.30.0.0/24"],
    internal: false,
    icc: true,
    isolated: true,
    mtu: 1500,
    ...overrides,
  };
}
