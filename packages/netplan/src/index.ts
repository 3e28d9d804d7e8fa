export type {
  DesiredBridge,
  DesiredEndpoint,
  DesiredHost,
  DesiredMacvlanEndpoint,
  DesiredOverlay,
  DesiredPortMapping,
  DesiredSandbox,
  MacvlanMode,
} from "./desired";
export { parseIptablesSave, renderIptablesRestore } from "./iptables";
export { isRuleSetApplied, minimalRestore, ruleSetAfter } from "./iptables-applied";
export {
  assertValidPortMappings,
  renderBridgeDnatRules,
  renderBridgePortAccepts,
  renderBridgePostRules,
  renderPortJumps,
  renderPortRawTable,
  routeLocalnetBridges,
} from "./iptables-ports";
export type {
  KernelAddress,
  KernelBridge,
  KernelBridgePort,
  KernelFdbEntry,
  KernelInterface,
  KernelNeighbour,
  KernelRoute,
  KernelView,
  KernelViewOutputs,
  LabnetRules,
  NodeKernelView,
  NodeKernelViewOutputs,
} from "./kernel-view";
export {
  buildKernelView,
  buildNodeKernelView,
  filterLabnetRules,
  KERNEL_VIEW_COMMANDS,
  NODE_KERNEL_VIEW_COMMANDS,
  parseFdbEntries,
  parseIpForward,
  parseKernelBridges,
  parseKernelInterfaces,
  parseKernelNeighbours,
  parseKernelRoutes,
} from "./kernel-view";
export {
  DEFAULT_MACVLAN_MODE,
  DEFAULT_MACVLAN_PARENT,
  isMacvlanEndpointLink,
  isMacvlanMode,
  MACVLAN_MODES,
  renderMacvlanCreate,
} from "./macvlan";
export {
  BRIDGE_CHAIN_KINDS,
  bridgeChainName,
  bridgeName,
  CHOSEN_BRIDGE_NAME_RULE,
  FILTER_CHAINS,
  HOST_NETNS_PREFIX_RULE,
  hostVethName,
  isChosenBridgeName,
  isDesiredBridgeName,
  isLabnetBridge,
  isLabnetHostVeth,
  isLabnetMacvlanTemp,
  isLabnetOwnedBridge,
  isLabnetTempPeer,
  isLabnetVxlan,
  isSandboxIfName,
  isValidHostNetnsPrefix,
  isValidIfName,
  isValidNetnsName,
  isValidNetnsPrefix,
  LABNET_LINK_ALIAS,
  MAX_VNI,
  machineNetnsPrefix,
  macvlanTempName,
  NAT_CHAINS,
  RAW_CHAINS,
  sandboxIfName,
  sandboxNetnsName,
  tempPeerName,
  vxlanName,
} from "./names";
export type {
  ObservedFdbEntry,
  ObservedHost,
  ObservedLink,
  ObservedNeighbour,
  ObservedRoute,
  ObservedSandbox,
} from "./observed";
export type { OverlayLinkPlan } from "./overlay";
export {
  assertValidOverlay,
  desiredFdbOf,
  FLOOD_MAC,
  OVERLAY_MTU,
  parseVxlanFdbJson,
  parseVxlanNeighJson,
  planOverlayFdb,
  planOverlayLink,
  planOverlayNeighbours,
  VXLAN_PORT,
} from "./overlay";
export {
  findDefaultGateway,
  parseIpAddrBatchJson,
  parseIpAddrJson,
  parseIpLinkJson,
  parseIpRouteJson,
  parseJsonDocuments,
  parseSandboxBatchJson,
  SANDBOX_OBSERVE_BATCH,
} from "./parse-ip-json";
export type { HostPlan, PlanOptions, SandboxBatch } from "./plan";
export { describePlan, foreignBridgeNames, isIpNoop, planHost } from "./plan";
export type {
  ExposedPort,
  ExposedPortResult,
  PortProtocol,
  PortRequest,
  PortSpecError,
  PortSpecInput,
  PortSpecObject,
  PortSpecPart,
  PortSpecResult,
} from "./port-spec";
export {
  ANY_HOST_IP,
  formatPortKey,
  formatPortMapping,
  parseExposedPort,
  parsePortSpec,
} from "./port-spec";
export type {
  HostResolvConf,
  NodeResolverFiles,
  ResolverDns,
  ResolverEndpoint,
  ResolverHost,
  ResolverNetwork,
  ResolverNode,
} from "./resolver-files";
export {
  embeddedDnsOf,
  HOST_GATEWAY,
  parseResolvConf,
  renderHostsFile,
  renderResolvConf,
  renderResolverFiles,
} from "./resolver-files";
export type { TextRules } from "./text";
export { isCleanText, textProblem } from "./text";
export { assertValidDesiredHost, isIpv4, isIpv4Cidr, isUnicastMac, isValidMtu } from "./validate";
