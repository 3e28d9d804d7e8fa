export type { ApplyOptions } from "./apply";
export {
  ApplyError,
  type ApplyFailure,
  type ApplyStep,
  applyPlan,
  applyPlanOrThrow,
  describeFailure,
} from "./apply";
export type { Capabilities, DetectOptions, LinkType } from "./capabilities";
export { detectCapabilities, PROBED_LINK_TYPES } from "./capabilities";
export {
  BRIDGE_NF_CALL_IPTABLES_PATH,
  detectBridgeNetfilter,
  detectHostNetnsPath,
  type HostNetnsPathOptions,
} from "./host-netns";
export type { ObservedHostResult, ObserveOptions } from "./observe";
export { NETNS_DIR, observeHost } from "./observe";
export { applyRouteLocalnet, routeLocalnetArgv } from "./route-localnet";
export type {
  RecordedCall,
  RecordedResponses,
  RecordingRunner,
  Runner,
  RunOptions,
  RunResult,
} from "./runner";
export {
  assertAllowedArgv,
  createExecRunner,
  createRecordingRunner,
  inNetns,
  KernelCommandError,
  runOrThrow,
  withNetns,
} from "./runner";
export { enableIpForward, enableMachineIpForward, IP_FORWARD_PATH } from "./sysctl";
export {
  createOwnedNetns,
  holderArgv,
  type NetnsOwner,
  releaseOwnedNetns,
  sweepStaleUsernsPins,
  USERNS_DIR,
  usernsPinPath,
} from "./userns";
