export { connectionOptions, createDb, type CreateDbOptions, type Database, type Sql } from "./client";
export { ID_PREFIX, isId, newId, type IdKind } from "./ids";
export { DatabaseLock } from "./locks";
export { migrate } from "./migrate";
export * from "./queries";
export * as schema from "./schema";
export type {
  AllocationKind,
  HostCapabilities,
  OperationState,
  OperationTargetType,
  ResourceState,
  Role,
  StoredProblem,
} from "./schema";
export { type Db, type Tx, withTransaction } from "./tx";
