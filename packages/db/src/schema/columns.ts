import { sql } from "drizzle-orm";
import { jsonb, timestamp } from "drizzle-orm/pg-core";

/** created_at / updated_at, set by the database. */
export const timestamps = {
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
};

/** Free-form string labels, like Docker's. */
export const labels = () =>
  jsonb("labels").$type<Record<string, string>>().notNull().default(sql`'{}'::jsonb`);
