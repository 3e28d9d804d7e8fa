/**
 * `createDb({ genericPlans: true })` (the executor's pool): a prepared statement is planned
 * once per connection, not for each execution's parameters. pg_prepared_statements counts the
 * plans of each statement the session prepared; one connection per client, so it is that one.
 */
import { createDb } from "@labnet/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase("genplan");
});

afterAll(async () => {
  await database?.drop();
});

/** Runs one parameterized statement `times` times, then reads its plan counts on the same connection. */
async function plansOf(genericPlans: boolean, times: number) {
  const { sql, close } = createDb(database.url, { max: 1, genericPlans });
  try {
    for (let i = 0; i < times; i++) {
      await sql`SELECT count(*) FROM pg_class WHERE relname = ${`t${i}`} AND relkind = 'r'`;
    }
    const [row] = await sql<{ generic: number; custom: number }[]>`
      SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements
      WHERE strpos(statement, 'FROM pg_class WHERE relname') > 0
        AND strpos(statement, 'pg_prepared_statements') = 0`;
    return row;
  } finally {
    await close();
  }
}

describe("generic plans", () => {
  it("plans each execution's parameters by default (the first five at least)", async () => {
    expect(await plansOf(false, 3)).toEqual({ generic: 0, custom: 3 });
  });

  it("with genericPlans, uses one plan for every execution", async () => {
    expect(await plansOf(true, 3)).toEqual({ generic: 3, custom: 0 });
  });
});
