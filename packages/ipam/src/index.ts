export type { Cidr, ParseCidrResult } from "./cidr";
export {
  broadcastOf,
  cidrContains,
  cidrContainsCidr,
  cidrOf,
  cidrSize,
  cidrsOverlap,
  firstUsable,
  formatCidr,
  isIpv4Interface,
  isUsable,
  lastUsable,
  maskOf,
  parseCidr,
  parseIpv4Interface,
  requireCidr,
  translateAddress,
  withPrefix,
} from "./cidr";
export type {
  IpamConfig,
  IpamConfigInput,
  IpamFieldError,
  ResolveIpamConfigResult,
  StaticAddressProblem,
} from "./ipam-config";
export { dynamicRange, resolveIpamConfig, validateStaticAddress } from "./ipam-config";
export { formatIpv4, isIpv4, isIpv4Number, MAX_IPV4, parseIpv4, requireIpv4 } from "./ipv4";
export { isMac, isUnicastMac, macFromIpv4, normalizeMac } from "./mac";
export type { AddressPool, ParseAddressPoolsResult } from "./pools";
export {
  DEFAULT_ADDRESS_POOLS,
  DEFAULT_BRIDGE_GATEWAY,
  DEFAULT_BRIDGE_SUBNET,
  DEFAULT_LAN_POOLS,
  enumeratePoolSubnets,
  findFreeSubnet,
  parseAddressPools,
} from "./pools";
export type { ReservedBlock } from "./reserved";
export { RESERVED_BLOCKS, reservedSubnetProblem } from "./reserved";
export type { AddressUsage, PoolUsage } from "./usage";
export { addressUsage, poolUsage } from "./usage";
