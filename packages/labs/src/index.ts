/**
 * @labnet/labs: lab templates (parse and check), their expansion per student into the
 * commands' requests, the solution as requests, and grading by probes. Pure, but for
 * reading the built-in templates' files.
 */
export { BUILTIN_TEMPLATES, builtinTemplate } from "./builtin";
export {
  type CheckOutcome,
  DEFAULT_PROBE_TIMEOUT_MS,
  describeExpectation,
  gradeCheck,
  gradeChecks,
  type ProbePlan,
  planChecks,
  type ResolvedInstance,
  type ResolvedMachine,
  type ResolvedService,
} from "./checks";
export {
  expandInstance,
  expandSolution,
  type InstanceNaming,
  type InstancePlan,
  lanName,
  machineName,
  type SolutionStep,
} from "./expand";
export { DEFAULT_BRIDGE, DEFAULT_MACHINE_KEY, PREDEFINED_NETWORKS } from "./names";
export { DEFAULT_STUDENT_HEADROOM, studentsOf } from "./normalize";
export { type ParseTemplateResult, parseTemplate } from "./parse";
export type { Probe, ProbeResult } from "./probe";
export { LIMITS, STUDENT_ACTIONS } from "./schema";
export type {
  ConnectNodeRequestShape,
  CreateMachineInputShape,
  CreateNetworkInputShape,
  CreateNodeInputShape,
  NetworkOptionsShape,
  NodeNetworkInputShape,
} from "./shapes";
export type {
  CheckOrigin,
  LabTemplate,
  NetworkDriver,
  StudentAction,
  TemplateAttachment,
  TemplateCheck,
  TemplateError,
  TemplateIpamConfig,
  TemplateMachine,
  TemplateNetwork,
  TemplateService,
  TemplateStep,
  TemplateStudents,
} from "./template";
