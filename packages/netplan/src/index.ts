export type { DesiredBridge, DesiredEndpoint, DesiredHost, DesiredSandbox } from "./desired";
export { parseIptablesSave, renderIptablesRestore } from "./iptables";
export {
  bridgeName,
  FILTER_CHAINS,
  hostVethName,
  isLabnetBridge,
  isLabnetHostVeth,
  isLabnetTempPeer,
  isSandboxIfName,
  isValidIfName,
  isValidNetnsName,
  isValidNetnsPrefix,
  NAT_CHAINS,
  sandboxIfName,
  sandboxNetnsName,
  tempPeerName,
} from "./names";
export type { ObservedHost, ObservedLink, ObservedRoute, ObservedSandbox } from "./observed";
export {
  findDefaultGateway,
  parseIpAddrJson,
  parseIpLinkJson,
  parseIpRouteJson,
  parseJsonDocuments,
  parseSandboxBatchJson,
  SANDBOX_OBSERVE_BATCH,
} from "./parse-ip-json";
export type { HostPlan, PlanOptions, SandboxBatch } from "./plan";
export { isIpNoop, planHost } from "./plan";
export { assertValidDesiredHost, isIpv4, isIpv4Cidr, isUnicastMac, isValidMtu } from "./validate";
