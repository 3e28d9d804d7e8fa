export { type CreateDbOptions, connectionOptions, createDb, type Database, type Sql } from "./client";
export { ID_PREFIX, type IdKind, newId } from "./ids";
export { DatabaseLock } from "./locks";
export { migrate } from "./migrate";
export * from "./queries";
export type {
  AllocationKind,
  HostCapabilities,
  NodeDns,
  OperationState,
  OperationTargetType,
  PortProtocol,
  ResourceState,
  Role,
  StoredProblem,
} from "./schema";
export * as schema from "./schema";
export type { Db, Tx } from "./tx";
