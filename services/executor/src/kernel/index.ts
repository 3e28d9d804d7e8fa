export type { ApplyOptions } from "./apply";
export { ApplyStepError, applyPlan } from "./apply";
export type { Capabilities, DetectOptions, LinkType } from "./capabilities";
export { detectCapabilities, PROBED_LINK_TYPES } from "./capabilities";
export type { ObserveOptions } from "./observe";
export { NETNS_DIR, observeHost } from "./observe";
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
  KernelCommandError,
  runOrThrow,
  withNetns,
} from "./runner";
export { enableIpForward, IP_FORWARD_PATH } from "./sysctl";
