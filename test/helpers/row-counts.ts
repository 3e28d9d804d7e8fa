import { type Database, schema } from "@labnet/db";
import { count } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";

/** The number of rows of each table, by the names given: to show that a refused call wrote nothing. */
export async function countRows(
  db: Database,
  tables: Record<string, PgTable>,
): Promise<Record<string, number | undefined>> {
  const counts: Record<string, number | undefined> = {};
  for (const [name, table] of Object.entries(tables)) {
    const [row] = await db.select({ n: count() }).from(table);
    counts[name] = row?.n;
  }
  return counts;
}

/** What creating a network writes: the tables a refused network creation must leave as they were. */
export const NETWORK_TABLES = {
  networks: schema.networks,
  ipamConfigs: schema.ipamConfigs,
  allocations: schema.allocations,
  operations: schema.operations,
};
