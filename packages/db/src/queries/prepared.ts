/**
 * Cheap statements for the hot paths (creating a node, reading one). Drizzle's statements are
 * prepared once per connection (patches/drizzle-orm+0.45.4.patch) when they carry at most 32
 * parameters, so a list of ids is one array parameter ({@link anyOf}), not one parameter per
 * id: the statement's text stays the same whatever the list's length. Drizzle's query builder
 * costs about 0.25 ms of CPU to build a select of a wide row; two ways around that, both
 * internal to this package's query files:
 * - {@link preparedOn}: a builder query built once per pool and run as a named prepared
 *   statement (outside transactions: a prepared drizzle query runs on the pool);
 * - {@link clientOf}: the postgres.js client under a `Db` (the pool's or the transaction's
 *   connection), whose tagged templates are prepared once per connection by postgres.js.
 */
import { type Column, type SQL, sql } from "drizzle-orm";
import { PgTransaction } from "drizzle-orm/pg-core";
import { PostgresJsSession } from "drizzle-orm/postgres-js";
import type postgres from "postgres";
import type { Database } from "../client";
import type { Db } from "../tx";

/** The postgres.js client of the pool or of an open transaction. */
export type SqlClient = postgres.ISql;

const preparedByPool = new WeakMap<Database, Map<string, unknown>>();

/**
 * `build(pool)` made once per pool under `key`, for queries on the pool; undefined inside a
 * transaction (build the query on the transaction then).
 */
export function preparedOn<T>(db: Db, key: string, build: (pool: Database) => T): T | undefined {
  if (db instanceof PgTransaction) {
    return undefined;
  }
  let statements = preparedByPool.get(db);
  if (!statements) {
    statements = new Map();
    preparedByPool.set(db, statements);
  }
  if (!statements.has(key)) {
    statements.set(key, build(db));
  }
  // Each key is only ever built by the one call site that names it, with its one type.
  return statements.get(key) as T;
}

/** The postgres.js client `db` runs its queries on (the transaction's connection inside one). */
export function clientOf(db: Db): SqlClient {
  const session = db._.session;
  if (!(session instanceof PostgresJsSession)) {
    throw new Error("Labnet's database handles run on postgres.js");
  }
  return session.client;
}

/**
 * `column = ANY($1)` with the list as one text-array parameter: unlike `inArray` (one parameter
 * per value) its text does not change with the list's length, so it is prepared once per
 * connection for every length. An empty list matches nothing.
 */
export function anyOf(column: Column | SQL, values: readonly string[]): SQL {
  return sql`${column} = ANY(${sql.param([...values])}::text[])`;
}
