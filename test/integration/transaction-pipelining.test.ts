/**
 * Labnet's patch of postgres.js (packages/db/patches): a transaction's BEGIN goes out in one
 * write with its first statements instead of waiting for its own answer, and keeps every
 * property of a transaction. The writes are counted on the client's socket; against a test
 * database of its own.
 */
import { connect, type Socket } from "node:net";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, postgresOptions, type TestDatabase } from "../helpers/database";

let database: TestDatabase;
let writes = 0;
let sql: postgres.Sql;

beforeAll(async () => {
  database = await createTestDatabase("txpipe");
  const options = postgresOptions(database.url);
  // `socket` (the driver's own connection, here counted) is an option postgres.js has but does
  // not declare.
  const counted = {
    socket: () => {
      const socket: Socket = options.host.startsWith("/")
        ? connect(`${options.host}/.s.PGSQL.${options.port}`)
        : connect(options.port, options.host);
      const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
      socket.write = ((...args: unknown[]) => {
        writes += 1;
        return write(...args);
      }) as Socket["write"];
      return socket;
    },
  };
  sql = postgres({
    ...options,
    max: 2,
    onnotice: () => {},
    ...(counted as postgres.Options<Record<string, postgres.PostgresType>>),
  });
  await sql`CREATE TABLE pipelined (id int PRIMARY KEY)`;
});

afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await database?.drop();
});

async function writesOf(work: () => Promise<unknown>): Promise<number> {
  await sql`SELECT 1`; // connected, nothing pending
  const before = writes;
  await work();
  return writes - before;
}

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
