/**
 * Labnet's patch of drizzle-orm (packages/db/patches): its statements are prepared once per
 * connection when they carry at most 32 parameters, and `anyOf` keeps a list of ids one
 * parameter, so the text (and the prepared statement) is the same for every length. The writes
 * are counted on the client's socket; against a test database of its own, over one connection.
 */
import { anyOf } from "@labnet/db";
import { inArray, sql as q } from "drizzle-orm";
import { integer, pgTable, text } from "drizzle-orm/pg-core";
import { drizzle } from "drizzle-orm/postgres-js";
import type postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countedPostgres } from "../helpers/counted-postgres";
import { createTestDatabase, type TestDatabase } from "../helpers/database";

const items = pgTable("prepared_items", { id: text("id").primaryKey(), n: integer("n").notNull() });

let database: TestDatabase;
let sql: postgres.Sql;
let writesOf: (work: () => Promise<unknown>) => Promise<number>;
let db: ReturnType<typeof drizzle>;

beforeAll(async () => {
  database = await createTestDatabase("drzprep");
  // One connection: what it prepared is what pg_prepared_statements shows.
  ({ sql, writesOf } = countedPostgres(database.url, 1));
  db = drizzle({ client: sql });
  await sql`CREATE TABLE prepared_items (id text PRIMARY KEY, n int NOT NULL)`;
  await sql`INSERT INTO prepared_items SELECT 'i' || g, g FROM generate_series(1, 60) g`;
});

afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await database?.drop();
});

/** Statements this connection has prepared whose text contains `fragment`. */
async function preparedWith(fragment: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pg_prepared_statements WHERE strpos(statement, ${fragment}) > 0`;
  return row?.n ?? 0;
}

const bump = (id: string) =>
  db
    .update(items)
    .set({ n: q`${items.n} + 1` })
    .where(q`${items.id} = ${id}`);

describe("drizzle's statements, prepared", () => {
  it("runs a builder statement with a parameter in one write once the connection prepared it", async () => {
    // The first run prepares it: parse and describe, then bind (two writes).
    expect(await writesOf(() => bump("i1"))).toBe(2);
    // An unnamed statement would be described again on every run (two writes each).
    expect(await writesOf(() => bump("i2"))).toBe(1);
    expect(await writesOf(() => bump("i3"))).toBe(1);
    expect(await preparedWith(`update "prepared_items"`)).toBe(1);
  });

  it("pipelines prepared statements sent together: one write for three", async () => {
    await Promise.all([bump("i4"), bump("i5"), bump("i6")]); // prepared on this connection
    expect(await writesOf(() => Promise.all([bump("i4"), bump("i5"), bump("i6")]))).toBe(1);
    const rows = await db
      .select()
      .from(items)
      .where(anyOf(items.id, ["i4", "i5", "i6"]));
    expect(rows.map((r) => r.n).sort()).toEqual([6, 7, 8]); // each bumped twice
  });

  it("anyOf: one statement for every length of the list, matching exactly the ids listed", async () => {
    const lengths = [1, 2, 5, 40, 60];
    for (const length of lengths) {
      const ids = Array.from({ length }, (_, i) => `i${i + 1}`);
      const rows = await db.select({ id: items.id }).from(items).where(anyOf(items.id, ids));
      expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    }
    expect(await db.select().from(items).where(anyOf(items.id, []))).toEqual([]);
    expect(
      await db
        .select()
        .from(items)
        .where(anyOf(items.id, ["i1", "nope"])),
    ).toHaveLength(1);
    expect(await preparedWith(`select "id" from "prepared_items" where "prepared_items"."id" = ANY(`)).toBe(
      1,
    );
  });

  it("leaves a statement of more than 32 parameters unnamed (its text changes with its length)", async () => {
    const ids = (length: number) => Array.from({ length }, (_, i) => `i${i + 1}`);
    await db
      .select()
      .from(items)
      .where(inArray(items.id, ids(40)));
    await db
      .select()
      .from(items)
      .where(inArray(items.id, ids(41)));
    expect(await preparedWith(" in (")).toBe(0);
    // Up to 32 it is prepared: one per length.
    await db
      .select()
      .from(items)
      .where(inArray(items.id, ids(3)));
    await db
      .select()
      .from(items)
      .where(inArray(items.id, ids(4)));
    expect(await preparedWith(" in (")).toBe(2);
  });
});
