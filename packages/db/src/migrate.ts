import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate as runMigrations } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { connectionOptions } from "./client";
import { DatabaseLock } from "./locks";

const MIGRATIONS = fileURLToPath(new URL("../migrations", import.meta.url));

/**
 * Applies the committed migrations. Uses its own single connection, as drizzle advises, and
 * holds an advisory lock meanwhile: two gateways starting at once would otherwise both apply
 * the same migration and one would fail half-way.
 */
export async function migrate(url: string): Promise<void> {
  const { url: cleanUrl, host } = connectionOptions(url);
  const sql = postgres(cleanUrl, { ...(host ? { host } : {}), max: 1, onnotice: () => {} });
  try {
    await sql`SELECT pg_advisory_lock(${DatabaseLock.Migrate})`;
    await runMigrations(drizzle(sql), { migrationsFolder: MIGRATIONS });
    await sql`SELECT pg_advisory_unlock(${DatabaseLock.Migrate})`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
