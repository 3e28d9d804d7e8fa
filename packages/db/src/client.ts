import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema";

/**
 * postgres.js options from a URL. Besides the usual `postgres://user@host:port/db`, it takes
 * libpq's `?host=/socket/dir` form, which an executor inside a network namespace needs to
 * reach Postgres over a unix socket (the namespace has its own loopback).
 */
export function connectionOptions(url: string): { url: string; host?: string } {
  const parsed = new URL(url);
  const socketDir = parsed.searchParams.get("host");
  if (socketDir?.startsWith("/")) {
    parsed.searchParams.delete("host");
    return { url: parsed.toString(), host: socketDir };
  }
  return { url };
}

export interface CreateDbOptions {
  /** Pool size. */
  max?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
  /**
   * Plan each prepared statement once per connection (`plan_cache_mode=force_generic_plan`)
   * rather than for each execution's parameters: for a client whose statements all look rows
   * up by key (the executor's), the plans are the same, and planning its host snapshot cost
   * more than running it (1-2.5 ms against 0.5-1 ms for a small host).
   */
  genericPlans?: boolean;
}

/**
 * Seconds before a connection that closed or failed to open is tried again, by attempt. The
 * driver's default grows to 20 s, so after an outage queries would wait that long for a server
 * that is back; a second at most keeps recovery quick and costs an idle retry a second.
 */
export function reconnectDelaySeconds(attempt: number): number {
  return Math.min(0.05 * 2 ** attempt, 1);
}

/** A connection attempt that has not completed in this many seconds fails (and is retried). */
export const CONNECT_TIMEOUT_SECONDS = 5;

/** Opens a pooled connection and the typed drizzle handle over it. */
export function createDb(url: string, options: CreateDbOptions = {}) {
  const { url: cleanUrl, host } = connectionOptions(url);
  const sql = postgres(cleanUrl, {
    ...(host ? { host } : {}),
    max: options.max ?? 10,
    // A server that is down answers queries with an error at once (503 at the API), not after
    // the driver's 30 s default.
    connect_timeout: CONNECT_TIMEOUT_SECONDS,
    backoff: reconnectDelaySeconds,
    onnotice: () => {},
    connection: {
      application_name: options.applicationName ?? "labnet",
      ...(options.genericPlans ? { plan_cache_mode: "force_generic_plan" } : {}),
    },
  });
  const db = drizzle(sql, { schema });
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}

export type Database = ReturnType<typeof createDb>["db"];
export type Sql = ReturnType<typeof createDb>["sql"];
