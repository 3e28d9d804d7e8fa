import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate as runMigrations } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { connectionOptions } from "./client";

const MIGRATIONS = fileURLToPath(new URL("../migrations", import.meta.url));

/** Applies the committed migrations. Uses its own single connection, as drizzle advises. */
export async function migrate(url: string): Promise<void> {
  const { url: cleanUrl, host } = connectionOptions(url);
  const sql = postgres(cleanUrl, { ...(host ? { host } : {}), max: 1, onnotice: () => {} });
  try {
    await runMigrations(drizzle(sql), { migrationsFolder: MIGRATIONS });
  } finally {
    await sql.end({ timeout: 5 });
  }
}
