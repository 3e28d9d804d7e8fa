import { integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { tokens } from "./tokens";

/** First answers to POSTs carrying an Idempotency-Key, replayed on retries. */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    tokenId: text("token_id")
      .notNull()
      .references(() => tokens.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    /** SHA-256 of method, path and body: a reused key with another request is refused. */
    requestHash: text("request_hash").notNull(),
    /** Null while the first request is still being handled. */
    status: integer("status"),
    headers: jsonb("headers").$type<Record<string, string>>(),
    body: text("body"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: "idempotency_keys_pkey", columns: [t.tokenId, t.key] })],
);
