/**
 * Strict checks on desired state before anything is rendered. `ip -batch` and
 * `iptables-restore` split their input on whitespace and newlines, so every value that
 * is interpolated into a line must match a narrow pattern, not merely "look right".
 */
import { isIpv4, isIpv4Interface, isUnicastMac } from "@labnet/ipam";
import type { DesiredHost } from "./desired";
import { isMacvlanMode } from "./macvlan";
import {
  isDesiredBridgeName,
  isLabnetHostVeth,
  isSandboxIfName,
  isValidIfName,
  isValidNetnsName,
  isValidNetnsPrefix,
  macvlanTempName,
} from "./names";
import { assertValidOverlay } from "./overlay";

const MTU_MIN = 68;
const MTU_MAX = 65535;

// Address and MAC syntax have one home, @labnet/ipam; netplan's modules take them from here.
export { isIpv4, isIpv4Interface as isIpv4Cidr, isUnicastMac };

/** True for an MTU the kernel accepts on Ethernet-like links. */
export function isValidMtu(value: number): boolean {
  return Number.isInteger(value) && value >= MTU_MIN && value <= MTU_MAX;
}

/**
 * Throws on the first value of `desired` that must not reach a kernel command, and on
 * inconsistencies the kernel would reject halfway through a batch (duplicate names, an
 * endpoint on a bridge that is not desired, a sandbox outside the executor's prefix).
 */
export function assertValidDesiredHost(desired: DesiredHost, netnsPrefix: string): void {
  if (!isValidNetnsPrefix(netnsPrefix)) {
    fail("netnsPrefix", netnsPrefix);
  }
  const bridges = new Set<string>();
  for (const bridge of desired.bridges) {
    const where = `bridge ${JSON.stringify(bridge.bridge)}`;
    if (!isDesiredBridgeName(bridge.bridge)) {
      fail(`${where} name`, bridge.bridge);
    }
    if (bridges.has(bridge.bridge)) {
      fail(`${where} (duplicate)`, bridge.bridge);
    }
    bridges.add(bridge.bridge);
    for (const gateway of bridge.gateways) {
      if (!isIpv4Interface(gateway)) {
        fail(`${where} gateway`, gateway);
      }
    }
    for (const subnet of bridge.subnets) {
      if (!isIpv4Interface(subnet)) {
        fail(`${where} subnet`, subnet);
      }
    }
    if (!isValidMtu(bridge.mtu)) {
      fail(`${where} mtu`, bridge.mtu);
    }
  }

  const netnsNames = new Set<string>();
  const hostVeths = new Set<string>();
  for (const sandbox of desired.sandboxes) {
    const where = `sandbox ${JSON.stringify(sandbox.netns)}`;
    if (!isValidNetnsName(sandbox.netns) || !sandbox.netns.startsWith(netnsPrefix)) {
      fail(`${where} netns (must start with ${netnsPrefix})`, sandbox.netns);
    }
    if (netnsNames.has(sandbox.netns)) {
      fail(`${where} (duplicate)`, sandbox.netns);
    }
    netnsNames.add(sandbox.netns);
    if (sandbox.defaultGateway !== undefined && !isIpv4(sandbox.defaultGateway)) {
      fail(`${where} defaultGateway`, sandbox.defaultGateway);
    }
    const ifNames = new Set<string>();
    for (const endpoint of sandbox.endpoints) {
      const at = `${where} endpoint ${JSON.stringify(endpoint.endpointId)}`;
      if (!isSandboxIfName(endpoint.ifName) || ifNames.has(endpoint.ifName)) {
        fail(`${at} ifName`, endpoint.ifName);
      }
      ifNames.add(endpoint.ifName);
      if (!isLabnetHostVeth(endpoint.hostVeth) || hostVeths.has(endpoint.hostVeth)) {
        fail(`${at} hostVeth`, endpoint.hostVeth);
      }
      hostVeths.add(endpoint.hostVeth);
      if (!bridges.has(endpoint.bridge)) {
        fail(`${at} bridge (not a desired bridge)`, endpoint.bridge);
      }
      if (!isIpv4Interface(endpoint.address)) {
        fail(`${at} address`, endpoint.address);
      }
      if (!isUnicastMac(endpoint.mac)) {
        fail(`${at} mac`, endpoint.mac);
      }
      if (!isValidMtu(endpoint.mtu)) {
        fail(`${at} mtu`, endpoint.mtu);
      }
    }
    for (const endpoint of sandbox.macvlanEndpoints ?? []) {
      const at = `${where} macvlan endpoint ${JSON.stringify(endpoint.endpointId)}`;
      if (!isSandboxIfName(endpoint.ifName) || ifNames.has(endpoint.ifName)) {
        fail(`${at} ifName`, endpoint.ifName);
      }
      ifNames.add(endpoint.ifName);
      try {
        macvlanTempName(endpoint.endpointId);
      } catch {
        fail(`${at} endpointId`, endpoint.endpointId);
      }
      if (!isValidIfName(endpoint.parent)) {
        fail(`${at} parent`, endpoint.parent);
      }
      if (!isMacvlanMode(endpoint.mode)) {
        fail(`${at} mode`, endpoint.mode);
      }
      if (!isIpv4Interface(endpoint.address)) {
        fail(`${at} address`, endpoint.address);
      }
      if (!isUnicastMac(endpoint.mac)) {
        fail(`${at} mac`, endpoint.mac);
      }
      if (!isValidMtu(endpoint.mtu)) {
        fail(`${at} mtu`, endpoint.mtu);
      }
    }
  }

  const vxlans = new Set<string>();
  for (const overlay of desired.overlays ?? []) {
    assertValidOverlay(overlay, bridges);
    if (vxlans.has(overlay.vxlan)) {
      fail("overlay vxlan (duplicate)", overlay.vxlan);
    }
    vxlans.add(overlay.vxlan);
  }

  // Their values are checked where they are rendered (iptables-ports.ts).
  for (const mapping of desired.portMappings) {
    if (!bridges.has(mapping.bridge)) {
      fail(
        `port mapping ${mapping.hostPort}/${mapping.protocol} bridge (not a desired bridge)`,
        mapping.bridge,
      );
    }
  }
}

function fail(what: string, value: unknown): never {
  throw new Error(`invalid desired state: ${what}: ${JSON.stringify(value)}`);
}
