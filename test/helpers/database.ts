import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { inject } from "vitest";

/** postgres.js options for a libpq-style URL, including `?host=/socket/dir`. */
export function postgresOptions(url: string): { host: string; port: number; user: string; database: string } {
  const parsed = new URL(url);
  const socketDir = parsed.searchParams.get("host");
  return {
    host: socketDir ?? parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 5432,
    user: decodeURIComponent(parsed.username) || "postgres",
    database: parsed.pathname.slice(1),
  };
}

/** A migrated database of one's own, cloned from the run's template. */
export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * Clones the run's migrated template into a fresh database (milliseconds, no migration run),
 * for tests that must not see each other's rows. Drop it in afterAll; the run's Postgres is
 * thrown away at the end anyway.
 */
export async function createTestDatabase(prefix = "t"): Promise<TestDatabase> {
  const base = inject("databaseUrl");
  const template = inject("templateDatabase");
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = postgres({ ...postgresOptions(base), database: "postgres", max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}" template "${template}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const sql = postgres({ ...postgresOptions(base), database: "postgres", max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
  };
}
