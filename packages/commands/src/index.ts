export type { CommandContext } from "./context";
export { DomainError, type DomainErrorCode, type FieldError, invalidField, notFound } from "./errors";
export { registerHostWithDefaults } from "./hosts/register-host";
export {
  type CreatedNetwork,
  type CreateNetworkInput,
  createNetwork,
  ensureDefaultBridge,
  RESERVED_NETWORK_NAMES,
} from "./networks/create-network";
export { deleteNetwork } from "./networks/delete-network";
export {
  type CreatedNode,
  type CreateNodeInput,
  createNode,
  type NodeNetworkInput,
} from "./nodes/create-node";
export { deleteNode } from "./nodes/delete-node";
export { reportOperationFailed, reportOperationSucceeded } from "./operations/report-operation";
export { resolveHost, resolveNetwork, resolveNode } from "./resolve";
