/**
 * Ids of Postgres advisory locks held by singleton loops. One enum, so two loops never
 * share an id by accident.
 */
export enum DatabaseLock {
  OutboxDispatch = 7_301_001,
  /** Applying migrations: gateways starting together (and a migrations Job) take turns. */
  Migrate = 7_301_002,
  /** Per scope (with the scope's hash as second key): picking a subnet from the default pools. */
  SubnetPool = 7_301_004,
  /** The controller's events retention round. */
  EventPrune = 7_301_005,
}
