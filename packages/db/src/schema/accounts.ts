import { integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/** What an account may hold at once; a missing limit takes the gateway's default. */
export interface AccountQuotas {
  labs?: number;
  instances?: number;
  machines?: number;
  nodes?: number;
  ports?: number;
}

/**
 * Whom tokens speak for: an admin or an instructor. An instructor's labs, templates and
 * machines are owned by the account (not by one token), so a second token of the same
 * instructor sees the same things; students' tokens belong to their instructor's account
 * and are further limited to one lab instance.
 */
export const accounts = pgTable("accounts", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  role: text("role").$type<"admin" | "instructor">().notNull(),
  quotas: jsonb("quotas").$type<AccountQuotas>().notNull().default({}),
  /** Raised by the trigger `accounts_revision` (migration 0016) on every change: the account's `ETag`. */
  revision: integer("revision").notNull().default(1),
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});
