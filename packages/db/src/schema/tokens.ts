import { sql } from "drizzle-orm";
import { type AnyPgColumn, check, index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { accounts } from "./accounts";
import { labInstances } from "./labs";

export type Role = "admin" | "instructor" | "student";

/**
 * API tokens; only a SHA-256 of the secret is stored. A student token is limited to one lab
 * instance and goes with it.
 */
export const tokens = pgTable(
  "tokens",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    role: text("role").$type<Role>().notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    /** The account it speaks for (a student's: the instructor's); null only for legacy rows. */
    accountId: text("account_id").references(() => accounts.id, { onDelete: "cascade" }),
    /** A student token's one lab instance. */
    instanceId: text("instance_id").references((): AnyPgColumn => labInstances.id, { onDelete: "cascade" }),
    /** The token that created it (kept when that one is revoked). */
    createdBy: text("created_by"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true, mode: "date" }),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    check("tokens_student_chk", sql`(${t.role} = 'student') = (${t.instanceId} IS NOT NULL)`),
    index("tokens_account_idx").on(t.accountId),
    index("tokens_instance_idx").on(t.instanceId),
  ],
);
