export {
  CONNECT_TIMEOUT_SECONDS,
  type CreateDbOptions,
  connectionOptions,
  createDb,
  type Database,
  reconnectDelaySeconds,
  type Sql,
} from "./client";
export { ID_PREFIX, type IdKind, newId } from "./ids";
export { DatabaseLock } from "./locks";
export { migrate } from "./migrate";
export { pipelined } from "./pipeline";
export * from "./queries";
export { anyOf } from "./queries/prepared";
export type {
  AccountQuotas,
  AllocationKind,
  HostCapabilities,
  NodeDns,
  OperationKind,
  OperationState,
  OperationTargetType,
  PortProtocol,
  ResourceState,
  Role,
  StoredProblem,
} from "./schema";
export * as schema from "./schema";
export { noteOperationWritten, type TransactionWrites, withBeforeCommit } from "./transaction-hooks";
export type { Db, Tx } from "./tx";
export { type UntilDatabaseAvailableOptions, untilDatabaseAvailable } from "./until-available";
