/**
 * Labnet's patch of postgres.js (packages/db/patches): a transaction's BEGIN goes out in one
 * write with its first statements instead of waiting for its own answer, and keeps every
 * property of a transaction. The writes are counted on the client's socket; against a test
 * database of its own.
 */
import type postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countedPostgres } from "../helpers/counted-postgres";
import { createTestDatabase, type TestDatabase } from "../helpers/database";

let database: TestDatabase;
let sql: postgres.Sql;
let writesOf: (work: () => Promise<unknown>) => Promise<number>;

beforeAll(async () => {
  database = await createTestDatabase("txpipe");
  ({ sql, writesOf } = countedPostgres(database.url, 2));
  await sql`CREATE TABLE pipelined (id int PRIMARY KEY)`;
});

afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await database?.drop();
});

describe("a transaction's BEGIN, pipelined", () => {
  it("goes out with the first statement: BEGIN + INSERT in one write, COMMIT in another", async () => {
    const sent = await writesOf(() => sql.begin((tx) => tx`INSERT INTO pipelined VALUES (1)`));
    expect(sent).toBe(2);
    expect((await sql`SELECT count(*)::int AS n FROM pipelined WHERE id = 1`)[0]?.n).toBe(1);
  });

  it("still rolls back everything when a later statement fails", async () => {
    await expect(
      sql.begin(async (tx) => {
        await tx`INSERT INTO pipelined VALUES (2)`;
        await tx`INSERT INTO pipelined VALUES (1)`; // taken
      }),
    ).rejects.toThrow(/duplicate key/);
    expect((await sql`SELECT count(*)::int AS n FROM pipelined WHERE id = 2`)[0]?.n).toBe(0);
  });

  it("answers the first statement's error, commits nothing and leaves the connection usable", async () => {
    await expect(
      sql.begin(async (tx) => {
        await tx`INSERT INTO pipelined VALUES (1 / 0)`;
      }),
    ).rejects.toThrow(/division by zero/);
    const [row] =
      await sql`SELECT count(*)::int AS n, current_setting('transaction_isolation') AS iso FROM pipelined`;
    expect(row?.n).toBe(1);
    expect(row?.iso).toBe("read committed");
  });

  it("keeps its options (the isolation level) and its statements in one transaction", async () => {
    const [row] = await sql.begin("isolation level repeatable read", async (tx) => {
      return tx`SELECT current_setting('transaction_isolation') AS iso`;
    });
    expect(row?.iso).toBe("repeatable read");
    // now() is the transaction's start: equal to the first statement's only inside BEGIN's transaction.
    const [later] = await sql.begin(async (tx) => {
      await tx`SELECT pg_sleep(0.01)`;
      return tx`SELECT now() < statement_timestamp() AS inside`;
    });
    expect(later?.inside).toBe(true);
  });

  it("serves transactions that wait for a connection (more than the pool holds), each in one transaction", async () => {
    const ids = Array.from({ length: 24 }, (_, i) => 100 + i);
    const xacts = await Promise.all(
      ids.map((id) =>
        sql.begin(async (tx) => {
          // Each statement reports the transaction it ran in: behind a pipelined BEGIN, the same.
          const [first] =
            await tx`INSERT INTO pipelined VALUES (${id}) RETURNING pg_current_xact_id()::text AS x`;
          const [second] =
            await tx`INSERT INTO pipelined VALUES (${id + 1000}) RETURNING pg_current_xact_id()::text AS x`;
          return [first?.x, second?.x];
        }),
      ),
    );
    for (const [first, second] of xacts) {
      expect(first).toBeDefined();
      expect(second).toBe(first);
    }
    expect(new Set(xacts.map(([first]) => first)).size).toBe(ids.length);
    const [row] = await sql`SELECT count(*)::int AS n FROM pipelined WHERE id >= 100`;
    expect(row?.n).toBe(ids.length * 2);
  });
});
