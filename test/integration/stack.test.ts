import { netnsPath, REPO_ROOT, runCommand } from "@labnet/devstack";
import { Redis } from "ioredis";
import postgres from "postgres";
import { describe, expect, inject, it } from "vitest";
import { createTestDatabase, postgresOptions } from "../helpers/database";
import { createSimHost } from "../helpers/netns";

const databaseUrl = inject("databaseUrl");
const redisUrl = inject("redisUrl");
const runPrefix = inject("runPrefix");

/** Run inside a namespace: connects to both services by their unix socket URLs. */
const PROBE = `
import postgres from "postgres";
import { Redis } from "ioredis";
const db = new URL(process.env.DATABASE_URL);
const sql = postgres({ host: db.searchParams.get("host"), user: "postgres", database: db.pathname.slice(1), max: 1 });
const [{ answer }] = await sql\`select 41 + 1 as answer\`;
await sql.end();
const redis = new Redis({ path: new URL(process.env.REDIS_URL).pathname, lazyConnect: true, maxRetriesPerRequest: 1 });
await redis.connect();
const pong = await redis.ping();
redis.disconnect();
console.log(JSON.stringify({ answer, pong }));
`;

describe("test stack", () => {
  it("provides a migrated Postgres reachable by unix socket", async () => {
    expect(databaseUrl).toMatch(/^postgres:\/\/postgres@localhost\/labnet\?host=\/tmp\/lt-\d+\/pg\/socket$/);
    const sql = postgres({ ...postgresOptions(databaseUrl), max: 1, onnotice: () => {} });
    try {
      const [row] = await sql`select ${"hello"}::text as value, current_database() as database`;
      expect(row).toEqual({ value: "hello", database: "labnet" });
      const [tables] =
        await sql`select count(*)::int as n from information_schema.tables where table_schema = 'public'`;
      expect(tables?.n).toBeGreaterThan(0);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it("clones the template into a database of one's own", async () => {
    const db = await createTestDatabase();
    const sql = postgres({ ...postgresOptions(db.url), max: 1, onnotice: () => {} });
    try {
      const [row] = await sql`select current_database() as database`;
      expect(row?.database).toBe(db.name);
    } finally {
      await sql.end({ timeout: 5 });
      await db.drop();
    }
  });

  it("provides a Redis reachable by unix socket", async () => {
    expect(redisUrl).toMatch(/^unix:\/\/\/tmp\/lt-\d+\/redis\/redis\.sock$/);
    const redis = new Redis({ path: new URL(redisUrl).pathname });
    try {
      await redis.set("labnet:test:roundtrip", "value", "EX", 60);
      expect(await redis.get("labnet:test:roundtrip")).toBe("value");
    } finally {
      redis.disconnect();
    }
  });

  it("reaches both from inside a network namespace (as an executor does)", async () => {
    const host = await createSimHost(runPrefix, "stk");
    try {
      const result = await runCommand(
        [
          "nsenter",
          `--net=${netnsPath(host.hostNetns)}`,
          "--",
          process.execPath,
          "--input-type=module",
          "-e",
          PROBE,
        ],
        {
          cwd: REPO_ROOT,
          env: { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl },
          timeoutMs: 20_000,
        },
      );
      expect(result.stderr).toBe("");
      expect(JSON.parse(result.stdout)).toEqual({ answer: 42, pong: "PONG" });
    } finally {
      await host.destroy();
    }
  });
});
