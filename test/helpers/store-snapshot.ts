/**
 * What a refused request must leave as it was: every table of the database (row count and a
 * digest of all its rows) and every key of a queue prefix in Redis (type and size), so a test can
 * say "nothing changed" without naming tables or queues, and a table or queue added later is
 * covered too.
 */
import type { Database } from "@labnet/db";
import { sql } from "drizzle-orm";
import type { Redis } from "ioredis";

/** Per table: `<rows> <md5 of the rows>`. */
export type TableSnapshot = Record<string, string>;

/**
 * Every base table of the public schema but those in `except`, by name. `volatile` names
 * columns per table that change without a request changing anything (a token's
 * `last_used_at`), left out of the digest.
 */
export async function snapshotTables(
  db: Database,
  {
    except = [],
    volatile = {},
  }: { except?: readonly string[]; volatile?: Record<string, readonly string[]> } = {},
): Promise<TableSnapshot> {
  const tables = await db.execute<{ name: string }>(sql`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`);
  const snapshot: TableSnapshot = {};
  for (const { name } of tables) {
    if (except.includes(name)) {
      continue;
    }
    const identifier = sql.raw(`"${name.replaceAll('"', '""')}"`);
    // One text parameter cast to text[] (a JS array would be spread into a list of parameters).
    const columns = `{${(volatile[name] ?? []).join(",")}}`;
    const [row] = await db.execute<{ n: number; digest: string }>(sql`
      SELECT count(*)::int AS n,
        md5(coalesce(string_agg((to_jsonb(t) - ${columns}::text[])::text, E'\n' ORDER BY (to_jsonb(t) - ${columns}::text[])::text), '')) AS digest
      FROM ${identifier} t`);
    snapshot[name] = `${row?.n} ${row?.digest}`;
  }
  return snapshot;
}

/** Per key under `prefix:`: `<type> <size>` (length, cardinality or stream length). */
export async function snapshotRedisKeys(redis: Redis, prefix: string): Promise<Record<string, string>> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  const snapshot: Record<string, string> = {};
  for (const key of keys.sort()) {
    const type = await redis.type(key);
    const size =
      type === "string"
        ? await redis.get(key)
        : type === "list"
          ? await redis.llen(key)
          : type === "set"
            ? await redis.scard(key)
            : type === "zset"
              ? await redis.zcard(key)
              : type === "hash"
                ? await redis.hlen(key)
                : type === "stream"
                  ? await redis.xlen(key)
                  : "?";
    snapshot[key] = `${type} ${size}`;
  }
  return snapshot;
}
