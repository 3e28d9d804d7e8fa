export type { CommandContext } from "./context";
export { defaultHostname, dnsNameProblem } from "./dns-names";
export { type ConnectNodeInput, connectNode } from "./endpoints/connect-node";
export { type DisconnectNodeInput, disconnectNode } from "./endpoints/disconnect-node";
export { DomainError, type DomainErrorCode, type FieldError, invalidField, notFound } from "./errors";
export { registerHostWithDefaults } from "./hosts/register-host";
export { type CreateLabInput, createLab, MAX_STUDENTS, namingOf, provisionInstance } from "./labs/create-lab";
export {
  deleteLab,
  rebuildInstance,
  resolveLab,
  selectInstances,
  solveInstances,
  sweepLabs,
} from "./labs/lab-actions";
export {
  BUILTIN_PREFIX,
  type CreateLabTemplateInput,
  createLabTemplate,
  deleteLabTemplate,
  type ResolvedTemplate,
  resolveLabTemplate,
  templateProblem,
} from "./labs/lab-templates";
export {
  type CreatedMachine,
  type CreateMachineInput,
  createMachine,
  DEFAULT_LAN,
  DEFAULT_LAN_POOLS,
  LAN_LABEL,
  MACHINE_UID_BASE,
} from "./machines/create-machine";
export { type DeletedMachine, deleteMachine, finishMachineRemoval } from "./machines/delete-machine";
export {
  type CreatedNetwork,
  type CreateNetworkInput,
  createNetwork,
  ensureDefaultBridge,
  RESERVED_NETWORK_NAMES,
} from "./networks/create-network";
export { deleteNetwork } from "./networks/delete-network";
export { type PruneNetworksInput, pruneNetworks } from "./networks/prune-networks";
export { type UpdateNetworkInput, updateNetwork } from "./networks/update-network";
export {
  type CreatedNode,
  type CreateNodeInput,
  createNode,
  type NodeNetworkInput,
} from "./nodes/create-node";
export { deleteNode, MACHINE_LABEL } from "./nodes/delete-node";
export { renameNode } from "./nodes/rename-node";
export { startNode } from "./nodes/start-node";
export {
  type ConvergeOutcome,
  type OperationProblem,
  settleOperations,
} from "./operations/report-operation";
export { allocatePorts } from "./ports/allocate-ports";
export {
  assertCanPublish,
  type LocatedPortRequest,
  MAX_PORTS_PER_REQUEST,
  type PortInputs,
  preparePortRequests,
} from "./ports/port-requests";
export { type PublishedPorts, type PublishPortsInput, publishPorts } from "./ports/publish-ports";
export { type UnpublishedPorts, type UnpublishPortsFilters, unpublishPorts } from "./ports/unpublish-ports";
export { resolveHost, resolveNetwork, resolveNode, resolveNodeOnHost } from "./resolve";
