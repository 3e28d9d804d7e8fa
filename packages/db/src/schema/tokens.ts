import { pgTable, text, timestamp } from "drizzle-orm/pg-core";

export type Role = "admin" | "instructor" | "student";

/** API tokens; only a SHA-256 of the secret is stored. */
export const tokens = pgTable("tokens", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  role: text("role").$type<Role>().notNull(),
  tokenHash: text("token_hash").notNull().unique(),
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  lastUsedAt: timestamp("last_used_at", { withTimezone: true, mode: "date" }),
  revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
});
