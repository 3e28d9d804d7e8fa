import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { tokens } from "./tokens";

/**
 * POSTs carrying an Idempotency-Key, per token and operation (`POST /v1/nodes`): the attempt
 * that holds the key (a lease, so a crashed one lets a retry take over), whether its change
 * committed (set in that very transaction), and the first answer, replayed on retries.
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    tokenId: text("token_id")
      .notNull()
      .references(() => tokens.id, { onDelete: "cascade" }),
    /** Method and path (`POST /v1/networks/my-net/connect`): a key is scoped to one operation. */
    operation: text("operation").notNull(),
    key: text("key").notNull(),
    /** SHA-256 of method, path and body: a reused key with another request is refused. */
    requestHash: text("request_hash").notNull(),
    /** The attempt holding the key; a retry takes over once `leaseExpiresAt` has passed. */
    leaseId: text("lease_id").notNull(),
    /** Renewed while the attempt runs; a crashed attempt's lease runs out. */
    leaseExpiresAt: timestamp("lease_expires_at", { withTimezone: true, mode: "date" }).notNull(),
    /**
     * Set in the transaction that carried the request out, only while that attempt still held
     * the lease: no retry runs a committed request again, and no lost lease commits.
     */
    committedAt: timestamp("committed_at", { withTimezone: true, mode: "date" }),
    /** The operations that transaction wrote, to rebuild an answer the attempt never stored. */
    operationIds: text("operation_ids").array().notNull().default(sql`'{}'::text[]`),
    /** Null until the answer is stored. */
    status: integer("status"),
    headers: jsonb("headers").$type<Record<string, string>>(),
    body: text("body"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /** Forgotten after this (LABNET_IDEMPOTENCY_TTL_MS): the key may then be used afresh. */
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [
    primaryKey({ name: "idempotency_keys_pkey", columns: [t.tokenId, t.operation, t.key] }),
    index("idempotency_keys_expires_idx").on(t.expiresAt),
  ],
);
